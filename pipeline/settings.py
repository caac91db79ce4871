"""Settings shared by the batch and the stages, standard library only."""

#: Who publishes the datasets, named in every package's metadata unless ``--publisher``.
DEFAULT_PUBLISHER = "Plateforme nationale du gouvernement ouvert (Maroc)"

"""Settings shared by the batch and the stages, standard library only."""

#: Who publishes the datasets, named in every package's metadata unless ``--publisher``.
DEFAULT_PUBLISHER = "Plateforme nationale du gouvernement ouvert (Maroc)"

#: Name of the national package, ``exports/<name>/``: every released report's rows in one
#: data package (a CKAN dataset name, so lowercase letters, digits and dashes), unless
#: ``--national-name``.
DEFAULT_NATIONAL_NAME = "ma-pgo-tous-les-rapports"

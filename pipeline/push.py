"""Push stage: a released data package onto a CKAN portal (data.gov.ma), with ckanapi.

``pgo push --ckan URL --org ORG [--report ID] [--dry-run]``: for each release in
``exports/`` (or the one named), the dataset of its ``ckan.json`` is created in the
organisation, or updated in place when the portal has it (same dataset, same
resources: no duplicate), and every file it lists is uploaded as a CKAN upload with
its SHA-256 in the resource's ``hash``. The API token is read from an environment
variable (``CKAN_API_TOKEN`` unless ``--token-env`` names another), never from the
command line, and is never logged.

What belongs here: reading a release as pushable (every file checked against its
``release.json``), validating the payload, comparing it with the portal
(:func:`plan_push`, pure), carrying the plan out (:func:`execute_plan`) and recording
what was pushed in ``pushes/<report_id>.json`` (beside ``exports/``, never inside a
release folder, which ``pgo publish`` swaps whole).

How a push stays safe to repeat:

* The portal is compared with the release before anything is sent: a file whose
  SHA-256 is already on the portal is not uploaded again, so a second push of an
  unchanged release sends nothing and changes nothing.
* A new dataset is created private and made public last, once every file is on the
  portal; on an update the dataset's metadata (its version above all) changes last.
* After every step the record is rewritten (atomically): a push that fails midway
  says what is on the portal, and the next push completes it.
* The token and the organisation are checked before anything is created: a wrong
  token or an unknown organisation leaves nothing on the portal.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline import exitcodes
from pipeline.atomic import write_text_atomic
from pipeline.faults import fault_point
from pipeline.layers import RELEASE_FILE, canonical_json, read_record, read_release

log = logging.getLogger("pipeline.push")

#: The environment variable holding the API token, unless ``--token-env`` names another.
TOKEN_ENV = "CKAN_API_TOKEN"
#: Where the push records go: ``pushes/<report_id>.json``.
PUSHES_DIR = Path("pushes")
#: CKAN's rule for dataset and organisation names (lowercase, at most 100 characters).
NAME_RE = re.compile(r"^[a-z0-9_-]{2,100}$")
#: CKAN's rule for tags: letters (any script), digits, space, ``-``, ``_``, ``.``.
TAG_RE = re.compile(r"^[\w \-.]{2,100}$")
#: An environment variable's name (what ``--token-env`` takes: never the token).
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ARABIC_RE = re.compile(r"[\u0600-\u06ff]")
LICENCE_ID = "odc-odbl"
#: The languages every dataset's metadata must carry (data.gov.ma is bilingual).
REQUIRED_LANGUAGES = ("fr", "ar")
#: The resource property tying a portal resource to a file of the release.
PATH_KEY = "release_path"
#: Resource properties that pgo push sets and compares, besides the file.
RESOURCE_FIELDS = ("name", "name_ar", "description", "description_ar", "format", "mimetype")
#: Dataset properties that pgo push sets and compares.
DATASET_FIELDS = ("title", "notes", "license_id", "version", "author")
#: Multilingual properties (ckanext-scheming/fluent): compared only where the portal keeps them.
TRANSLATED_FIELDS = ("title_translated", "notes_translated")
#: Seconds allowed for one API call (an upload included).
CALL_TIMEOUT_S = 300


class PushError(Exception):
    """A push that cannot go on: its exit code and a message for the operator."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- The release, as pushable ------------------------------------------------------------


@dataclass
class Release:
    """A released package as the portal will get it: metadata, resources, the files' bytes."""

    report_id: str
    folder: Path
    release_sha256: str
    dataset: dict
    resources: list[dict]
    files: dict[str, bytes]
    descriptor: dict

    @property
    def version(self) -> str:
        return self.dataset.get("version", "")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked_file(folder: Path, path: str, files: dict) -> bytes:
    entry = files.get(path)
    if entry is None:
        raise PushError(
            exitcodes.INPUT_ERROR, f"{folder}: {path} is not in {RELEASE_FILE}; republish with `pgo publish`"
        )
    data = (folder / path).read_bytes()
    if sha256_hex(data) != entry.get("sha256"):
        raise PushError(
            exitcodes.INPUT_ERROR,
            f"{folder / path} differs from its SHA-256 in {RELEASE_FILE} (edited, or replaced by a publish "
            "while being read): run `pgo push` again, or `pgo publish` to rebuild the release",
        )
    return data


def load_release(exports_dir: Path, report_id: str) -> Release:
    """The release of ``report_id`` in ``exports_dir``, every file checked against ``release.json``.

    The files are those ``ckan.json`` lists; the data dictionary, which is not a file of
    the release, is rendered from the released ``datapackage.json`` and checked against
    the SHA-256 ``ckan.json`` gives it.

    Raises:
        PushError: (:data:`~pipeline.exitcodes.INPUT_ERROR`) no complete release, or a
            file that differs from its record.
    """
    from pipeline.publish import DATA_DICTIONARY_PATH, ckan_companion_resources, render_data_dictionary_csv

    folder = Path(exports_dir) / report_id
    record = read_release(folder)
    if record is None:
        raise PushError(
            exitcodes.INPUT_ERROR, f"{folder} holds no complete release: run `pgo run` (or `pgo publish`) first"
        )
    files_meta = record.get("files", {})
    ckan = json.loads(_checked_file(folder, "ckan.json", files_meta))
    descriptor = json.loads(_checked_file(folder, "datapackage.json", files_meta))
    listed = ckan.pop("resources", [])
    # the workbook and the report page, released after ckan.json was built: after the dictionary
    companions = [
        r
        for r in ckan_companion_resources(report_id)
        if r["url"] in files_meta and r["url"] not in {x.get("url") for x in listed}
    ]
    at = next((i + 1 for i, r in enumerate(listed) if r.get("url") == DATA_DICTIONARY_PATH), len(listed))
    resources, files = [], {}
    for resource in listed[:at] + companions + listed[at:]:
        path = resource.get("url", "")
        if path == DATA_DICTIONARY_PATH and path not in files_meta:
            data = render_data_dictionary_csv(descriptor)
        elif path in files_meta and not PurePosixPath(path).is_absolute() and ".." not in PurePosixPath(path).parts:
            data = _checked_file(folder, path, files_meta)
        else:
            raise PushError(
                exitcodes.INPUT_ERROR, f"{folder}/ckan.json names {path!r}, which is not a file of the release"
            )
        digest = f"sha256:{sha256_hex(data)}"
        if resource.get("hash") not in (None, digest):
            raise PushError(
                exitcodes.INPUT_ERROR,
                f"{folder}/ckan.json gives {path} the hash {resource['hash']}, its bytes have {digest}: "
                "republish with `pgo publish`",
            )
        resource = {k: v for k, v in resource.items() if k != "url"}
        resources.append({**resource, PATH_KEY: path, "hash": digest, "size": len(data)})
        files[path] = data
    release_sha = sha256_hex((folder / RELEASE_FILE).read_bytes())
    return Release(report_id, folder, release_sha, ckan, resources, files, descriptor)


def released_reports(exports_dir: Path) -> list[str]:
    """The reports with a release in ``exports_dir`` (folders holding a ``release.json``)."""
    exports_dir = Path(exports_dir)
    if not exports_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in exports_dir.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and (p / RELEASE_FILE).is_file()
    )


# --- The payload ------------------------------------------------------------------------------


def dataset_payload(release: Release, org: str, private: bool) -> dict:
    """The dataset's metadata as ``package_create``/``package_patch`` take it (no resources)."""
    return {**release.dataset, "owner_org": org, "private": private}


def _arabic(text: object) -> bool:
    return isinstance(text, str) and bool(ARABIC_RE.search(text))


def missing_arabic(release: Release) -> list[str]:
    """Every title and description a portal user reads that lacks its Arabic text."""
    missing = []
    dataset, descriptor = release.dataset, release.descriptor
    extras = {e.get("key"): e.get("value") for e in dataset.get("extras", [])}
    for key in ("title_ar", "notes_ar"):
        if not _arabic(extras.get(key)):
            missing.append(f"dataset extra {key}")
    for key in ("title_translated", "notes_translated"):
        value = dataset.get(key) or {}
        if not value.get("fr") or not _arabic(value.get("ar")):
            missing.append(f"dataset {key} (fr and ar)")
    for resource in release.resources:
        for key in ("name_ar", "description_ar"):
            if not _arabic(resource.get(key)):
                missing.append(f"resource {resource[PATH_KEY]}: {key}")
    for key in ("title_ar", "description_ar"):
        if not _arabic(descriptor.get(key)):
            missing.append(f"datapackage.json: {key}")
    for resource in descriptor.get("resources", []):
        for key in ("title_ar", "description_ar"):
            if not _arabic(resource.get(key)):
                missing.append(f"datapackage.json: resource {resource.get('name')}: {key}")
        for f in resource.get("schema", {}).get("fields", []):
            for key in ("title_ar", "description_ar"):
                if not _arabic(f.get(key)):
                    missing.append(f"datapackage.json: field {resource.get('name')}.{f.get('name')}: {key}")
    return missing


def validate_payload(release: Release, org: str) -> list[str]:
    """What the portal would refuse, or what would publish the dataset incomplete (empty: valid).

    Checks the name (CKAN's rule: 2 to 100 characters, lowercase letters, digits,
    ``-`` and ``_``), the organisation's name, the tags, the licence, the languages
    (French and Arabic), the extras, the resources and every Arabic title and
    description (:func:`missing_arabic`).
    """
    problems = []
    dataset = release.dataset
    name = dataset.get("name", "")
    if not NAME_RE.fullmatch(name):
        problems.append(f"name {name!r}: CKAN takes 2 to 100 lowercase letters, digits, '-' or '_'")
    if name != release.report_id:
        problems.append(f"name {name!r} is not the report id {release.report_id!r}")
    if not NAME_RE.fullmatch(org or ""):
        problems.append(f"organisation {org!r}: CKAN names are 2 to 100 lowercase letters, digits, '-' or '_'")
    if not dataset.get("title") or not dataset.get("notes"):
        problems.append("the dataset has no title or no notes")
    if dataset.get("license_id") != LICENCE_ID:
        problems.append(f"licence {dataset.get('license_id')!r}: expected {LICENCE_ID!r} (ODbL 1.0)")
    tags = [t.get("name", "") for t in dataset.get("tags", [])]
    if not tags:
        problems.append("no tags")
    for tag in tags:
        if not TAG_RE.fullmatch(tag):
            problems.append(f"tag {tag!r}: CKAN takes 2 to 100 letters, digits, spaces, '-', '_' or '.'")
    duplicates = sorted({t for t in tags if tags.count(t) > 1})
    if duplicates:
        problems.append(f"duplicated tags: {', '.join(duplicates)}")
    keys = [e.get("key") for e in dataset.get("extras", [])]
    if len(keys) != len(set(keys)):
        problems.append("duplicated extras")
    if any(not isinstance(e.get("value"), str) for e in dataset.get("extras", [])):
        problems.append("an extra's value is not text")
    extras = {e.get("key"): e.get("value") for e in dataset.get("extras", [])}
    languages = (extras.get("language") or "").split(",")
    for language in REQUIRED_LANGUAGES:
        if language not in languages:
            problems.append(f"language {language!r} missing from the extra 'language' ({extras.get('language')!r})")
    for language in REQUIRED_LANGUAGES:
        if language not in release.descriptor.get("languages", []):
            problems.append(f"language {language!r} missing from datapackage.json's languages")
    if not release.resources:
        problems.append("no resources")
    paths = [r[PATH_KEY] for r in release.resources]
    if len(paths) != len(set(paths)):
        problems.append("a file is listed twice in ckan.json")
    for resource in release.resources:
        if not resource.get("name") or not resource.get("format"):
            problems.append(f"resource {resource[PATH_KEY]}: no name or no format")
    problems += [f"missing Arabic text: {m}" for m in missing_arabic(release)]
    return problems


# --- The portal ----------------------------------------------------------------------------


def describe_error(exc: BaseException) -> str:
    """A short, token-free account of a failed API call."""
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError

    if isinstance(exc, ValidationError):
        errors = getattr(exc, "error_dict", {}) or {}
        details = "; ".join(f"{k}: {v}" for k, v in errors.items() if k != "__type")
        return f"validation error: {details or errors}"
    if isinstance(exc, NotAuthorized):
        error = exc.args[0] if exc.args else ""
        message = error.get("message") if isinstance(error, dict) else error
        return f"not authorised: {message or 'the token does not allow it'}"
    if isinstance(exc, NotFound):
        return f"not found: {exc}"
    if isinstance(exc, CKANAPIError):
        text = str(exc)
        return text if len(text) <= 300 else text[:300] + "…"
    return f"{type(exc).__name__}: {exc}"[:300]


def _portal_errors() -> tuple[type[BaseException], ...]:
    import requests
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ServerIncompatibleError, ValidationError

    return (CKANAPIError, NotAuthorized, NotFound, ValidationError, ServerIncompatibleError, requests.RequestException)


class Portal:
    """A CKAN portal through ckanapi: every call with a time limit, the token only in its headers."""

    def __init__(self, url: str, token: str | None):
        import ckanapi

        from pipeline import __version__

        self.url = url.rstrip("/")
        self.authenticated = bool(token)
        self._api = ckanapi.RemoteCKAN(
            self.url, apikey=token or None, user_agent=f"pgo-pipeline/{__version__} (pgo push)"
        )

    def call(self, action: str, data: dict | None = None, files: dict | None = None) -> object:
        return self._api.call_action(action, data or {}, files=files, requests_kwargs={"timeout": CALL_TIMEOUT_S})

    def close(self) -> None:
        self._api.close()

    def dataset_url(self, name: str) -> str:
        return f"{self.url}/dataset/{name}"


def check_portal(portal: Portal, org: str, token_env: str) -> str:
    """Check, before anything is sent, that the portal is a CKAN, takes the token, has the
    organisation (the token's user may create datasets in it) and the ODbL licence.

    Returns the portal's CKAN version. Raises :class:`PushError` with
    :data:`~pipeline.exitcodes.USAGE` for a configuration error (nothing touched), with
    :data:`~pipeline.exitcodes.RELEASE_REFUSED` when the portal cannot be reached.
    """
    import requests
    from ckanapi.errors import CKANAPIError, NotAuthorized, ServerIncompatibleError

    try:
        status = portal.call("status_show")
    except requests.RequestException as exc:
        raise PushError(exitcodes.RELEASE_REFUSED, f"{portal.url} cannot be reached: {describe_error(exc)}") from None
    except (CKANAPIError, ServerIncompatibleError, ValueError) as exc:
        raise PushError(
            exitcodes.USAGE, f"{portal.url} does not answer as a CKAN portal (status_show): {describe_error(exc)}"
        ) from None
    version = str(status.get("ckan_version", "?")) if isinstance(status, dict) else "?"
    if portal.authenticated:
        try:
            portal.call("dashboard_new_activities_count")
        except NotAuthorized:
            raise PushError(
                exitcodes.USAGE,
                f"{portal.url} refused the API token in ${token_env} (unknown, revoked or expired): nothing was sent",
            ) from None
        except CKANAPIError:
            pass  # a CKAN without the activity dashboard: the organisation check below still catches a bad token
        try:
            orgs = portal.call("organization_list_for_user", {"permission": "create_dataset"})
        except NotAuthorized:
            raise PushError(
                exitcodes.USAGE, f"{portal.url} refused the API token in ${token_env}: nothing was sent"
            ) from None
        known = {o.get("name") for o in orgs} | {o.get("id") for o in orgs}
        if org not in known:
            names = ", ".join(sorted(o.get("name", "?") for o in orgs)) or "none"
            raise PushError(
                exitcodes.USAGE,
                f"organisation {org!r} does not exist on {portal.url}, or the user of the token in ${token_env} "
                f"cannot create datasets in it (organisations it can publish in: {names}): nothing was sent",
            )
    licences = portal.call("license_list")
    if LICENCE_ID not in {lic.get("id") for lic in licences}:
        raise PushError(exitcodes.USAGE, f"{portal.url} offers no licence {LICENCE_ID!r} (ODbL 1.0): nothing was sent")
    return version


def find_dataset(portal: Portal, name: str, dataset_id: str | None) -> dict | None:
    """The portal's dataset ``name`` (or the one recorded by id, if it was renamed), or None."""
    from ckanapi.errors import NotAuthorized, NotFound

    for key in [name] + ([dataset_id] if dataset_id else []):
        try:
            return portal.call("package_show", {"id": key})
        except NotFound:
            continue
        except NotAuthorized:
            raise PushError(
                exitcodes.USAGE,
                f"dataset {key} exists on {portal.url} but the token's user cannot read it (another organisation's "
                "private dataset?): nothing was sent",
            ) from None
    return None


# --- The plan -----------------------------------------------------------------------------------


@dataclass
class Step:
    """One change on the portal."""

    kind: str  # create_dataset, upload, update_resource, delete_resource, update_dataset
    path: str | None = None
    resource_id: str | None = None
    fields: dict = field(default_factory=dict)
    reason: str = ""


@dataclass
class Plan:
    """What a push changes: the steps, in order, and the files already on the portal."""

    report_id: str
    dataset_id: str | None
    steps: list[Step]
    unchanged: list[str]
    reorder: bool = False

    @property
    def uploads(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "upload"]

    @property
    def empty(self) -> bool:
        return not self.steps and not self.reorder


def _short(digest: str | None) -> str:
    return (digest or "none").removeprefix("sha256:")[:12]


def _match_resources(
    release: Release, portal_resources: list[dict], recorded: dict
) -> tuple[dict[str, dict], list[dict]]:
    """The portal resource of each file (by ``release_path``, else by the id recorded), and the
    portal resources to delete: those of files no longer in the release, and duplicates."""
    matched: dict[str, dict] = {}
    stale = []
    by_id = {r["id"]: r for r in portal_resources}
    for resource in portal_resources:
        path = resource.get(PATH_KEY)
        if path is None:
            continue
        if path not in release.files or path in matched:
            stale.append(resource)
        else:
            matched[path] = resource
    for path in release.files:
        rid = (recorded.get(path) or {}).get("id")
        if path not in matched and rid in by_id and by_id[rid] not in stale and by_id[rid] not in matched.values():
            matched[path] = by_id[rid]
    return matched, stale


def _dataset_changes(payload: dict, pkg: dict) -> dict:
    """The properties of ``payload`` that differ on the portal's dataset ``pkg``."""
    changes = {}
    for key in DATASET_FIELDS:
        if pkg.get(key) != payload.get(key):
            changes[key] = payload.get(key)
    for key in TRANSLATED_FIELDS:
        if key in payload and key in pkg and pkg.get(key) != payload[key]:
            changes[key] = payload[key]
    if bool(pkg.get("private")) != bool(payload.get("private")):
        changes["private"] = payload.get("private")
    if pkg.get("state", "active") != "active":
        changes["state"] = "active"
    portal_tags = sorted(t.get("name") for t in pkg.get("tags", []))
    if portal_tags != sorted(t["name"] for t in payload.get("tags", [])):
        changes["tags"] = payload.get("tags", [])
    portal_extras = {e.get("key"): e.get("value") for e in pkg.get("extras", [])}
    ours = {e["key"]: e["value"] for e in payload.get("extras", [])}
    if any(portal_extras.get(k) != v for k, v in ours.items()):
        merged = {**portal_extras, **ours}
        changes["extras"] = [{"key": k, "value": v} for k, v in merged.items()]
    return changes


def plan_push(
    release: Release, org: str, pkg: dict | None, recorded: dict | None = None, private: bool = False
) -> Plan:
    """The steps that bring the portal's dataset ``pkg`` (None: not there) to ``release``.

    Pure: the portal is read before, the plan is carried out by :func:`execute_plan` (or
    printed by a dry run). A new dataset is created private, its files uploaded, then it
    is made public (unless ``private``). An existing one gets the files whose SHA-256
    differs (uploaded again into the same resource), new files, property changes of
    resources, deletion of the resources of files the release no longer has, then its
    own metadata, last.
    """
    recorded = (recorded or {}).get("resources", {})
    payload = dataset_payload(release, org, private)
    if pkg is None:
        steps = [Step("create_dataset", fields={**payload, "private": True}, reason="not on the portal")]
        steps += [Step("upload", r[PATH_KEY], None, r, "new file") for r in release.resources]
        if not private:
            steps.append(
                Step("update_dataset", fields={"private": False}, reason="every file is on the portal: make it public")
            )
        return Plan(release.report_id, None, steps, [])
    owner = pkg.get("organization") or {}
    if org not in (owner.get("name"), owner.get("id"), pkg.get("owner_org")):
        raise PushError(
            exitcodes.USAGE,
            f"dataset {pkg.get('name')} belongs to organisation {owner.get('name') or pkg.get('owner_org')!r} on the "
            f"portal, not {org!r}: nothing was sent "
            f"(push with --org {owner.get('name') or pkg.get('owner_org')}, or move it)",
        )
    matched, stale = _match_resources(release, pkg.get("resources", []), recorded)
    steps, unchanged = [], []
    for resource in release.resources:
        path = resource[PATH_KEY]
        current = matched.get(path)
        if current is None:
            steps.append(Step("upload", path, None, resource, "new file"))
        elif current.get("hash") != resource["hash"] or current.get("url_type") != "upload":
            reason = f"content changed (sha256 {_short(current.get('hash'))} -> {_short(resource['hash'])})"
            steps.append(Step("upload", path, current["id"], resource, reason))
        else:
            keys = (*RESOURCE_FIELDS, PATH_KEY, "size")
            if PATH_KEY not in current:  # a portal that drops properties it does not know: compare those it keeps
                keys = tuple(k for k in keys if k in current)
            fields = {k: resource[k] for k in keys if k in resource and current.get(k) != resource[k]}
            if "size" in fields and str(current.get("size")) == str(resource["size"]):
                fields.pop("size")
            if fields:
                steps.append(
                    Step(
                        "update_resource",
                        path,
                        current["id"],
                        fields,
                        "properties changed: " + ", ".join(sorted(fields)),
                    )
                )
            else:
                unchanged.append(path)
    for resource in stale:
        steps.append(Step("delete_resource", resource.get(PATH_KEY), resource["id"], {}, "not a file of this release"))
    ours = [matched[r[PATH_KEY]]["id"] for r in release.resources if r[PATH_KEY] in matched]
    on_portal = [r["id"] for r in pkg.get("resources", []) if r["id"] in ours]
    changes = _dataset_changes(payload, pkg)
    if changes:
        steps.append(Step("update_dataset", fields=changes, reason="changed: " + ", ".join(sorted(changes))))
    return Plan(release.report_id, pkg["id"], steps, unchanged, reorder=on_portal != ours)


def describe_plan(plan: Plan, release: Release, org: str) -> list[str]:
    """The plan in words, one line per change."""
    name = release.dataset["name"]
    if plan.empty:
        return [
            f"{name}: nothing to push: the portal holds this release "
            f"(version {release.version}, {len(plan.unchanged)} files)"
        ]
    if plan.dataset_id is None:
        dataset = release.dataset
        tags = [t["name"] for t in dataset.get("tags", [])]
        extras = {e.get("key"): e.get("value") for e in dataset.get("extras", [])}
        lines = [
            f"{name}: create the dataset in organisation {org} (private until every file is on the portal), "
            f"version {release.version}",
            f"  title (fr): {dataset.get('title')}",
            f"  title (ar): {extras.get('title_ar')}",
            f"  licence {dataset.get('license_id')}, languages {extras.get('language')}, {len(tags)} tags "
            f"({sum(1 for t in tags if _arabic(t))} in Arabic)",
        ]
    else:
        lines = [f"{name}: update the dataset {plan.dataset_id} in organisation {org} to version {release.version}"]
    for step in plan.steps:
        if step.kind == "upload":
            size = step.fields.get("size")
            target = f"into resource {step.resource_id}" if step.resource_id else "as a new resource"
            lines.append(
                f"  upload {step.path} ({size} bytes, sha256 {_short(step.fields.get('hash'))}) {target}: {step.reason}"
            )
        elif step.kind == "update_resource":
            lines.append(f"  update resource {step.resource_id} ({step.path}): {step.reason}")
        elif step.kind == "delete_resource":
            lines.append(f"  delete resource {step.resource_id} ({step.path or 'no path'}): {step.reason}")
        elif step.kind == "update_dataset":
            lines.append(f"  update the dataset: {step.reason}")
    if plan.reorder:
        lines.append("  put the resources in the release's order")
    if plan.unchanged:
        lines.append(f"  {len(plan.unchanged)} file(s) already on the portal, unchanged")
    return lines


# --- The record --------------------------------------------------------------------------------------


def record_path(pushes_dir: Path, report_id: str) -> Path:
    return Path(pushes_dir) / f"{report_id}.json"


def read_push_record(pushes_dir: Path, report_id: str) -> dict:
    record = read_record(record_path(pushes_dir, report_id)) or {}
    record.setdefault("report_id", report_id)
    record.setdefault("portals", {})
    return record


def write_push_record(pushes_dir: Path, record: dict) -> None:
    write_text_atomic(record_path(pushes_dir, record["report_id"]), canonical_json(record))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def push_lock(pushes_dir: Path, report_id: str):
    """One push of a report at a time (the second one exits at once, touching nothing)."""
    Path(pushes_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(pushes_dir) / f".{report_id}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PushError(exitcodes.LOCKED, f"another `pgo push` of {report_id} is running: not starting") from None
        yield


# --- Carrying the plan out -----------------------------------------------------------------------------


def _resource_data(resource: dict) -> dict:
    """The properties of a resource as sent with its file (multipart: text values only)."""
    return {k: resource[k] for k in (*RESOURCE_FIELDS, PATH_KEY, "hash", "size") if resource.get(k) is not None}


def portal_state(portal: Portal, release: Release, recorded: dict) -> str:
    """What the portal holds of ``release`` now, in words (after a failure); ``recorded``:
    the push record's entry for this portal."""
    try:
        pkg = find_dataset(portal, release.dataset["name"], recorded.get("dataset_id"))
    except (PushError, *_portal_errors()) as exc:
        return f"the portal could not be read ({getattr(exc, 'message', None) or describe_error(exc)})"
    if pkg is None:
        return "nothing: the dataset is not on the portal"
    on_portal, _ = _match_resources(release, pkg.get("resources", []), recorded.get("resources", {}))
    present = [r[PATH_KEY] for r in release.resources if (on_portal.get(r[PATH_KEY]) or {}).get("hash") == r["hash"]]
    missing = [r[PATH_KEY] for r in release.resources if r[PATH_KEY] not in present]
    visibility = "private" if pkg.get("private") else "public"
    text = (
        f"dataset {pkg.get('name')} ({pkg.get('id')}, {visibility}, version {pkg.get('version')}) with "
        f"{len(present)} of {len(release.resources)} files of this release"
    )
    return text + (f"; missing or out of date: {', '.join(missing)}" if missing else "")


def execute_plan(portal: Portal, plan: Plan, release: Release, org: str, pushes_dir: Path, record: dict) -> dict:
    """Carry ``plan`` out, recording each step in ``pushes/<report_id>.json``; return counts.

    The record's entry for the portal (``record["portals"][url]``) says, after every
    step, the dataset's id, each file's resource id and SHA-256, and whether the push
    completed.
    """
    entry = record["portals"].setdefault(portal.url, {})
    entry.update({"organization": org, "dataset_name": release.dataset["name"], "complete": False})
    entry.setdefault("resources", {})
    entry["dataset_id"] = plan.dataset_id or entry.get("dataset_id")
    entry.update({"version": release.version, "release_sha256": release.release_sha256, "started_at": _now()})
    dataset_id = plan.dataset_id
    counts = {"uploaded": 0, "updated": 0, "deleted": 0, "unchanged": len(plan.unchanged)}

    def save() -> None:
        write_push_record(pushes_dir, record)

    for step in plan.steps:
        if step.kind == "create_dataset":
            pkg = portal.call("package_create", step.fields)
            dataset_id = entry["dataset_id"] = pkg["id"]
            entry["resources"] = {}
            log.info("created dataset %s (%s), private until every file is uploaded", pkg["name"], pkg["id"])
        elif step.kind == "upload":
            data = _resource_data(step.fields)
            upload = {"upload": (PurePosixPath(step.path).name, release.files[step.path])}
            if step.resource_id:
                resource = portal.call("resource_patch", {"id": step.resource_id, **data}, files=upload)
            else:
                resource = portal.call("resource_create", {"package_id": dataset_id, **data}, files=upload)
            counts["uploaded"] += 1
            entry["resources"][step.path] = {
                "id": resource["id"],
                "sha256": step.fields["hash"].removeprefix("sha256:"),
                "bytes": step.fields["size"],
            }
            log.info("uploaded %s (%d bytes) to resource %s", step.path, step.fields["size"], resource["id"])
        elif step.kind == "update_resource":
            portal.call("resource_patch", {"id": step.resource_id, **step.fields})
            counts["updated"] += 1
            log.info("updated resource %s (%s): %s", step.resource_id, step.path, step.reason)
        elif step.kind == "delete_resource":
            portal.call("resource_delete", {"id": step.resource_id})
            entry["resources"] = {p: r for p, r in entry["resources"].items() if r.get("id") != step.resource_id}
            counts["deleted"] += 1
            log.info("deleted resource %s (%s): %s", step.resource_id, step.path, step.reason)
        elif step.kind == "update_dataset":
            _reorder(portal, release, dataset_id, entry["resources"])
            portal.call("package_patch", {"id": dataset_id, **step.fields})
            log.info("updated dataset %s: %s", release.dataset["name"], step.reason)
        save()
        if step.kind == "upload":
            fault_point("push.after_upload")
    if not any(s.kind == "update_dataset" for s in plan.steps):
        _reorder(portal, release, dataset_id, entry["resources"])
    pkg = portal.call("package_show", {"id": dataset_id})
    on_portal, _ = _match_resources(release, pkg.get("resources", []), entry["resources"])
    for resource in release.resources:
        current = on_portal.get(resource[PATH_KEY])
        if current is None or current.get("hash") != resource["hash"]:
            raise PushError(
                exitcodes.RELEASE_REFUSED,
                f"after the push, the portal's resource for {resource[PATH_KEY]} is missing or has another hash",
            )
        entry["resources"][resource[PATH_KEY]] = {
            "id": current["id"],
            "sha256": resource["hash"].removeprefix("sha256:"),
            "bytes": resource["size"],
        }
    entry["resources"] = {p: entry["resources"][p] for p in release.files}
    entry.update({"dataset_id": pkg["id"], "complete": True, "pushed_at": _now()})
    save()
    return counts


def _reorder(portal: Portal, release: Release, dataset_id: str, recorded: dict) -> None:
    """Put the release's resources first, in its order (others keep theirs, after)."""
    pkg = portal.call("package_show", {"id": dataset_id})
    on_portal, _ = _match_resources(release, pkg.get("resources", []), recorded)
    ours = [on_portal[r[PATH_KEY]]["id"] for r in release.resources if r[PATH_KEY] in on_portal]
    current = [r["id"] for r in pkg.get("resources", [])]
    wanted = ours + [rid for rid in current if rid not in ours]
    if current != wanted:
        portal.call("package_resource_reorder", {"id": dataset_id, "order": wanted})


# --- One report, every report ------------------------------------------------------------------------


def _emit(lines: list[str]) -> None:
    """Print the plan (stdout), or log it when logs are JSON lines (then nothing else may print)."""
    from pipeline.logs import is_json_logging

    if is_json_logging():
        for line in lines:
            log.info(line)
    else:
        print("\n".join(lines), flush=True)


def push_report(
    report_id: str,
    exports_dir: Path,
    pushes_dir: Path,
    org: str,
    portal: Portal | None,
    *,
    dry_run: bool = False,
    private: bool = False,
) -> int:
    """Push (or, with ``dry_run``, plan) one report's release; return its exit code."""
    release = load_release(exports_dir, report_id)
    problems = validate_payload(release, org)
    if problems:
        for problem in problems:
            log.error("%s: %s", report_id, problem)
        raise PushError(
            exitcodes.INPUT_ERROR, f"{report_id}: {len(problems)} problem(s) in the payload: nothing was sent"
        )
    log.info(
        "%s: payload valid (name, tags, licence %s, organisation %s, languages %s, Arabic text complete): %d files",
        report_id,
        LICENCE_ID,
        org,
        "+".join(REQUIRED_LANGUAGES),
        len(release.resources),
    )
    record = read_push_record(pushes_dir, report_id)
    if portal is None:
        plan = plan_push(release, org, None, None, private)
        _emit(
            ["(no --ckan: the portal is not compared; on a portal without the dataset this push would do:)"]
            + describe_plan(plan, release, org)
        )
        return exitcodes.OK
    recorded = record["portals"].get(portal.url, {})
    pkg = find_dataset(portal, release.dataset["name"], recorded.get("dataset_id"))
    plan = plan_push(release, org, pkg, recorded, private)
    if dry_run:
        _emit(["(dry run: nothing is sent)"] + describe_plan(plan, release, org))
        return exitcodes.OK
    if plan.empty:
        _emit(describe_plan(plan, release, org))
        if not recorded.get("complete") or recorded.get("release_sha256") != release.release_sha256:
            # on the portal already (pushed from another copy, or the record was lost): say so
            matched, _ = _match_resources(release, pkg.get("resources", []), recorded.get("resources", {}))
            record["portals"][portal.url] = {
                "organization": org,
                "dataset_name": release.dataset["name"],
                "dataset_id": pkg["id"],
                "version": release.version,
                "release_sha256": release.release_sha256,
                "complete": True,
                "resources": {
                    r[PATH_KEY]: {
                        "id": matched[r[PATH_KEY]]["id"],
                        "sha256": r["hash"].removeprefix("sha256:"),
                        "bytes": r["size"],
                    }
                    for r in release.resources
                },
                "pushed_at": recorded.get("pushed_at") or _now(),
            }
            write_push_record(pushes_dir, record)
        return exitcodes.OK
    _emit(describe_plan(plan, release, org))
    try:
        counts = execute_plan(portal, plan, release, org, pushes_dir, record)
    except _portal_errors() as exc:
        state = portal_state(portal, release, record["portals"].get(portal.url, {}))
        log.error("%s: the push failed: %s", report_id, describe_error(exc))
        log.error("%s: on the portal now: %s", report_id, state)
        log.error(
            "%s: run the same `pgo push` again to complete it (record: %s)",
            report_id,
            record_path(pushes_dir, report_id),
        )
        return exitcodes.RELEASE_REFUSED
    except PushError as exc:
        state = portal_state(portal, release, record["portals"].get(portal.url, {}))
        log.error("%s: %s; on the portal now: %s", report_id, exc.message, state)
        return exc.code
    except BaseException:
        state = portal_state(portal, release, record["portals"].get(portal.url, {}))
        log.error("%s: the push stopped on an internal error; on the portal now: %s", report_id, state)
        raise
    log.info(
        "pushed %s to %s: %d uploaded, %d updated, %d deleted, %d unchanged",
        report_id,
        portal.dataset_url(release.dataset["name"]),
        counts["uploaded"],
        counts["updated"],
        counts["deleted"],
        counts["unchanged"],
        extra={"fields": {"report_id": report_id, **counts}},
    )
    return exitcodes.OK


def push_packages(
    exports_dir: Path,
    org: str,
    ckan_url: str | None,
    *,
    report_id: str | None = None,
    pushes_dir: Path = PUSHES_DIR,
    token_env: str = TOKEN_ENV,
    dry_run: bool = False,
    private: bool = False,
) -> int:
    """``pgo push``: push every release of ``exports_dir`` (or ``report_id``'s) to ``ckan_url``.

    Returns:
        :data:`~pipeline.exitcodes.OK` when every dataset is on the portal as released
        (or, with ``dry_run``, every payload is valid); :data:`~pipeline.exitcodes.USAGE`
        for a bad option, a missing or refused token, an unknown organisation, a URL that
        is not a CKAN or a dataset of another organisation (nothing sent);
        :data:`~pipeline.exitcodes.INPUT_ERROR` when a release is missing, incomplete,
        altered or its payload invalid (missing Arabic text included; nothing sent);
        :data:`~pipeline.exitcodes.RELEASE_REFUSED` when the portal cannot be reached,
        refuses the dataset or a file, or fails midway (the log says what is on the
        portal; the next push completes it); :data:`~pipeline.exitcodes.LOCKED` when
        another push of the report is running. The highest code met, over the reports.
    """
    if not ENV_NAME_RE.fullmatch(token_env or ""):
        log.error(
            "--token-env takes the NAME of an environment variable (such as %s), never the token itself", TOKEN_ENV
        )
        return exitcodes.USAGE
    if ckan_url is not None and not re.match(r"^https?://[^/\s]+", ckan_url):
        log.error("--ckan takes the portal's address, such as https://data.gov.ma: got %r", ckan_url)
        return exitcodes.USAGE
    if ckan_url is None and not dry_run:
        log.error("--ckan URL is required (only --dry-run can do without it)")
        return exitcodes.USAGE
    token = os.environ.get(token_env, "").strip()
    if ckan_url is not None and not token and not dry_run:
        log.error(
            "the API token is read from the environment variable %s, which is empty or not set: "
            "export %s=<token> (never on the command line)",
            token_env,
            token_env,
        )
        return exitcodes.USAGE
    if (
        ckan_url is not None
        and ckan_url.startswith("http://")
        and not re.match(r"^http://(localhost|127\.|\[::1\])", ckan_url)
    ):
        log.warning("%s is not https: the API token travels in clear", ckan_url)
    reports = [report_id] if report_id else released_reports(exports_dir)
    if not reports:
        log.error("no release in %s: run `pgo run` first", exports_dir)
        return exitcodes.INPUT_ERROR
    portal = None
    if ckan_url is not None:
        portal = Portal(ckan_url, token or None)
        if not token:
            log.warning(
                "dry run without a token (%s not set): the token and the organisation are not checked, "
                "and a private dataset is not seen",
                token_env,
            )
    worst = exitcodes.OK
    try:
        if portal is not None:
            try:
                version = check_portal(portal, org, token_env)
            except PushError as exc:
                log.error("%s", exc.message)
                return exc.code
            except _portal_errors() as exc:
                log.error(
                    "%s failed while being checked, before anything was sent: %s", portal.url, describe_error(exc)
                )
                return exitcodes.RELEASE_REFUSED
            log.info("CKAN %s at %s, organisation %s", version, portal.url, org)
        for rid in reports:
            try:
                if dry_run or portal is None:
                    code = push_report(rid, exports_dir, pushes_dir, org, portal, dry_run=True, private=private)
                else:
                    with push_lock(pushes_dir, rid):
                        code = push_report(rid, exports_dir, pushes_dir, org, portal, private=private)
            except PushError as exc:
                log.error("%s", exc.message)
                code = exc.code
            except _portal_errors() as exc:
                log.error("%s: the portal failed before anything was sent: %s", rid, describe_error(exc))
                code = exitcodes.RELEASE_REFUSED
            worst = max(worst, code)
    finally:
        if portal is not None:
            portal.close()
    return worst

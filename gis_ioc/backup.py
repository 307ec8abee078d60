"""Backups of the platform: the database (pg_dump custom format), the data folders, MapProxy's configuration.

A backup is one folder (or, with `archive=True`, one uncompressed .tar of it: the dump and the COGs are
compressed already) holding:

    manifest.json    what is inside: sha256 of every artefact, every table's row count, a checksum of
                     every sector table, every file of every data folder with its sha256
    database.dump    pg_dump -Fc of the whole database
    <name>.tar       one per data folder: `media` (MEDIA_ROOT), each `IOC_…_ROOT` setting (private data),
                     `mapproxy` (the generated MapProxy configuration)

Regenerable caches (vector tile cache, MapProxy cache, import scratch space) are left out; a restore
clears them, since tiles cached after the backup may show data the restore took away.

Restore checks every artefact against the manifest before it touches anything, restores the dump in one
transaction (all or nothing), swaps each data folder in whole, then recomputes the counts and checksums
and compares them with the manifest. Stop the web and job workers first (`scripts/ioc-run`): their open
transactions would hold the tables the restore replaces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
# Regenerable or scratch data under MEDIA_ROOT: never worth the backup's space (relative to MEDIA_ROOT).
SCRATCH = ("imports/work",)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


# --- what is backed up ---------------------------------------------------------------------------
def data_roots() -> dict[str, Path]:
    """The data folders, by name: `media`, each `IOC_…_ROOT` directory setting, `mapproxy`.

    Read from settings at run time, so a new private data root (any setting named IOC_…_ROOT) is backed
    up without touching this module.
    """
    from tiles import conf

    roots: dict[str, Path] = {"media": Path(settings.MEDIA_ROOT)}
    for name in sorted(dir(settings)):
        if name.startswith("IOC_") and name.endswith("_ROOT"):
            value = getattr(settings, name)
            if isinstance(value, str | os.PathLike) and str(value):
                roots[name.removeprefix("IOC_").removesuffix("_ROOT").lower()] = Path(value)
    roots["mapproxy"] = conf.mapproxy_dir()
    return roots


def excluded_dirs() -> list[Path]:
    """Caches and scratch folders left out of every data folder's archive (resolved paths)."""
    from tiles import conf

    media = Path(settings.MEDIA_ROOT)
    return [p.resolve() for p in (conf.cache_root(), conf.mapproxy_cache_dir(), *(media / s for s in SCRATCH))]


def _files(root: Path, excluded: list[Path]) -> Iterator[Path]:
    """Regular files under root (sorted, symlinks not followed), minus the excluded folders."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in excluded)
        for name in sorted(filenames):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_listing(root: Path, excluded: list[Path]) -> dict[str, str]:
    """{relative path: sha256} of a data folder, as stored in the manifest."""
    return {str(p.relative_to(root)): sha256(p) for p in _files(root, excluded)}


def table_counts() -> dict[str, int]:
    """Row count of every table of the public schema (PostGIS's spatial_ref_sys excepted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys' "
            "ORDER BY tablename"
        )
        names = [r[0] for r in cursor.fetchall()]
        counts = {}
        for name in names:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608 - catalog name
            counts[name] = cursor.fetchone()[0]
    return counts


def sector_tables() -> list[str]:
    """Tables holding a district's data: every sector model, the admin units, every catalog layer's table."""
    from layers.models import Layer
    from layers.models.base import SectorFeature

    names = {m._meta.db_table for m in apps.get_models() if issubclass(m, SectorFeature)}
    names.add(apps.get_model("gis_ioc", "AdminUnit")._meta.db_table)
    names.update(t for t in Layer.objects.exclude(source_table="").values_list("source_table", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)", [sorted(names)]
        )
        return sorted(r[0] for r in cursor.fetchall())


def table_checksums() -> dict[str, str]:
    """md5 over every row's text form (order-independent) of each sector table."""
    out = {}
    with connection.cursor() as cursor:
        for name in sector_tables():
            table = connection.ops.quote_name(name)
            # Rows hashed then sorted: the physical order a restore writes them in does not matter.
            # A catalog table name, quoted by the backend: not user input.
            sql = f"SELECT md5(COALESCE(string_agg(h, '' ORDER BY h), '')) FROM (SELECT md5(t::text) AS h FROM {table} t) s"  # noqa: S608,E501
            cursor.execute(sql)
            out[name] = cursor.fetchone()[0]
    return out


# --- PostgreSQL client tools ------------------------------------------------------------------------
def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": str(db["HOST"] or ""),
        "PGPORT": str(db["PORT"] or "5432"),
        "PGUSER": str(db["USER"] or ""),
        "PGPASSWORD": str(db["PASSWORD"] or ""),
        "PGDATABASE": str(db["NAME"]),
    }


def _pg_tool(name: str) -> str:
    """pg_dump/pg_restore: from IOC_PG_BIN (a folder) if set, else the one on PATH."""
    folder = os.environ.get("IOC_PG_BIN", "")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client) or set IOC_PG_BIN.")
    return path


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-2000:]}")
    return result


# --- backup ------------------------------------------------------------------------------------------
def create(output: Path, *, archive: bool = False) -> Path:
    """Write a backup under `output`; returns the folder (or the .tar with `archive`)."""
    output.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    final = output / f"gis_ioc-{stamp}"
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=output))  # renamed at the end: never half a backup
    try:
        # One snapshot for the counts, the checksums and pg_dump (--snapshot): the manifest describes
        # exactly what the dump holds, even while the platform keeps writing.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, server_version = cursor.fetchone()
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": {"name": connection.settings_dict["NAME"], "server_version": server_version},
                "tables": table_counts(),
                "checksums": table_checksums(),
                "roots": {},
                "artefacts": {},
            }
            pg_dump = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            _run([*pg_dump, f"--snapshot={snapshot}", "--file", str(work / DUMP)])
        excluded = excluded_dirs()
        for name, root in data_roots().items():
            listing = file_listing(root, excluded)
            with tarfile.open(work / f"{name}.tar", "w") as tar:
                for rel in listing:
                    tar.add(root / rel, arcname=rel, recursive=False)
            manifest["roots"][name] = {"files": listing}
        for artefact in sorted(p.name for p in work.iterdir()):
            manifest["artefacts"][artefact] = sha256(work / artefact)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True))
        if archive:
            target = final.with_suffix(".tar")
            tmp_tar = output / f".{target.name}.part"
            with tarfile.open(tmp_tar, "w") as tar:
                for p in sorted(work.iterdir()):
                    tar.add(p, arcname=f"{final.name}/{p.name}")
            os.replace(tmp_tar, target)
            return target
        os.replace(work, final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prune(output: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups in `output` (folders and .tar); returns what was removed."""
    backups = sorted(p for p in output.glob("gis_ioc-*") if p.is_dir() or p.suffix == ".tar")
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return removed


# --- restore -----------------------------------------------------------------------------------------
def read_backup(path: Path, scratch: Path) -> tuple[Path, dict[str, Any]]:
    """The backup folder (an archive is unpacked into `scratch`) and its manifest, every artefact verified."""
    if path.is_file():
        with tarfile.open(path) as tar:
            tar.extractall(scratch, filter="data")
        folders = [p for p in scratch.iterdir() if p.is_dir()]
        if len(folders) != 1:
            raise BackupError(f"{path.name} is not a gis_ioc backup archive (expected one folder inside).")
        path = folders[0]
    if not (path / MANIFEST).is_file():
        raise BackupError(f"{path.name} has no {MANIFEST}: not a gis_ioc backup.")
    manifest = json.loads((path / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')!r} is not the supported {FORMAT}.")
    for artefact, digest in manifest["artefacts"].items():
        if not (path / artefact).is_file():
            raise BackupError(f"{artefact} is missing from the backup: nothing was restored.")
        if sha256(path / artefact) != digest:
            raise BackupError(
                f"{artefact} does not match its checksum in the manifest (a damaged copy?): nothing was restored."
            )
    return path, manifest


def restore(path: Path) -> dict[str, Any]:
    """Restore a backup (folder or .tar) over the current database and data folders; returns the manifest.

    Raises BackupError before changing anything when the backup is incomplete or damaged, and after a
    restore whose counts or checksums differ from the manifest.
    """
    # Unpacked beside the archive: /tmp may be a small tmpfs, the backup's own disk has room for it.
    scratch = Path(tempfile.mkdtemp(prefix=".gis_ioc-restore-", dir=path.resolve().parent))
    staged: dict[Path, Path] = {}
    try:
        folder, manifest = read_backup(path, scratch)
        roots = data_roots()
        for name in manifest["roots"]:
            if name not in roots:
                raise BackupError(f"The backup has a data folder '{name}' this installation does not configure.")
        # Every folder is unpacked before the database is touched: what can fail for lack of space fails
        # first, and the swaps after the database restore are renames.
        for name in manifest["roots"]:
            staged[roots[name]] = _stage_folder(folder / f"{name}.tar", roots[name])
        _restore_database(folder / DUMP, scratch)
        for root, incoming in staged.items():
            _swap_folder(incoming, root)
        staged.clear()
        _clear_caches()
        problems = verify(manifest)
        if problems:
            raise BackupError("Restored, but it differs from the manifest: " + "; ".join(problems[:20]))
        return manifest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for incoming in staged.values():
            shutil.rmtree(incoming, ignore_errors=True)


def _restore_database(dump: Path, scratch: Path) -> None:
    # The extensions (PostGIS) and the public schema stay as they are: dropping them needs a superuser and
    # would cascade over every geometry column. Everything else is dropped and recreated, in one transaction.
    listing = _run([_pg_tool("pg_restore"), "--list", str(dump)]).stdout
    keep = [
        line
        for line in listing.splitlines()
        if not (" EXTENSION " in line or " SCHEMA - public " in line or "COMMENT - SCHEMA public" in line)
    ]
    (scratch / "restore.list").write_text("\n".join(keep) + "\n")
    connections.close_all()
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--use-list",
            str(scratch / "restore.list"),
            "--dbname",
            str(connection.settings_dict["NAME"]),
            str(dump),
        ]
    )


def _stage_folder(tar_path: Path, root: Path) -> Path:
    """Unpack a data folder's archive beside the folder (same disk: the swap is a rename)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{root.name}-restore-", dir=root.parent))
    with tarfile.open(tar_path) as tar:
        tar.extractall(incoming, filter="data")
    return incoming


def _swap_folder(incoming: Path, root: Path) -> None:
    """Put the unpacked folder in place of the live one; caches inside the old one go with it."""
    if root.is_dir():
        old = root.with_name(f".{root.name}-old-{os.getpid()}")
        os.replace(root, old)
        os.replace(incoming, root)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(incoming, root)


def _clear_caches() -> None:
    from tiles import conf

    for cache in (conf.cache_root(), conf.mapproxy_cache_dir()):
        if cache.is_dir():
            for child in cache.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()


def verify(manifest: dict[str, Any]) -> list[str]:
    """Differences between the live database and data folders and a manifest (empty: identical)."""
    problems = []
    counts = table_counts()
    for table, n in manifest["tables"].items():
        if counts.get(table) != n:
            problems.append(f"table {table}: {counts.get(table)} rows, backup had {n}")
    sums = table_checksums()
    for table, digest in manifest["checksums"].items():
        if sums.get(table) != digest:
            problems.append(f"table {table}: content differs from the backup")
    roots, excluded = data_roots(), excluded_dirs()
    for name, entry in manifest["roots"].items():
        if name in roots and file_listing(roots[name], excluded) != entry["files"]:
            problems.append(f"folder {name}: files differ from the backup")
    return problems

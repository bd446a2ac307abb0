"""Upload jobs: a list file waits on disk for its column mapping, then imports with progress the page can poll.

The job's state is a small JSON file beside the upload (atomic replace), not a process's memory, so any console
process on the host can report it. The import itself is ``campaigns.leadimport.service.import_leads`` (all or
nothing); its progress callback writes the status at most a few times a second.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from campaigns.campaign.service import get_campaign
from campaigns.leadimport.service import import_leads
from dnc.errors import UserError
from dnc.scrub import DncScrubber
from web.context import release_db

log = logging.getLogger(__name__)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
STALE_AFTER = timedelta(hours=24)
PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True)
class UploadJob:
    id: str
    dir: Path

    @property
    def data_path(self) -> Path:
        """The uploaded file, saved under its own extension (``upload.xlsx``, ``upload.tsv``): the reader takes the
        delimiter a ``.tsv`` or ``.psv`` name implies from it, exactly as ``dialer leads import`` does."""
        return self.dir / self.meta().get("data_file", "upload.bin")

    def meta(self) -> dict:
        return json.loads((self.dir / "meta.json").read_text())

    def status(self) -> dict:
        path = self.dir / "status.json"
        return json.loads(path.read_text()) if path.exists() else {"state": "uploaded"}

    def write(self, name: str, data: dict) -> None:
        tmp = self.dir / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(data, default=str))
        os.replace(tmp, self.dir / name)

    def set_status(self, **data) -> None:
        self.write("status.json", data)


def _sweep(root: Path) -> None:
    """Forget uploads nobody confirmed within a day (and finished jobs' leftovers).

    File ages are wall-clock facts (mtimes), so this compares with the wall clock, not the injected one (which
    runs ahead in an accelerated demo and sits in 2030 in the tests).
    """
    if not root.exists():
        return
    cutoff = time.time() - STALE_AFTER.total_seconds()
    for d in root.iterdir():
        try:
            if d.is_dir() and JOB_ID.match(d.name) and d.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def upload_name(storage: FileStorage) -> str:
    """The uploaded file's own name, without the folders some browsers send: what every message names it by."""
    return (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]


def new_job(root: Path, storage: FileStorage, campaign_id: int, campaign_name: str, uploaded_by: str,
            now: datetime) -> UploadJob:
    """Store an uploaded file under a fresh job id; the original name is kept only as metadata."""
    original = upload_name(storage)
    if not original:
        raise UserError("choose a file to upload")
    _sweep(root)
    job = UploadJob(secrets.token_hex(16), root)
    job = UploadJob(job.id, root / job.id)
    # lead lists are personal data: only the service's own user may read them (0700 directories, 0600 files)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    job.dir.mkdir(mode=0o700)
    data = job.dir / stored_name(original)
    with os.fdopen(os.open(data, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        storage.save(f)
    size = data.stat().st_size
    if size == 0:
        shutil.rmtree(job.dir, ignore_errors=True)
        raise UserError(f"{original}: the file is empty")
    job.write("meta.json", {"campaign_id": campaign_id, "campaign": campaign_name, "filename": original,
                            "data_file": data.name, "safe_name": secure_filename(original) or "list", "size": size,
                            "uploaded_by": uploaded_by, "uploaded_at": now.isoformat()})
    return job


def stored_name(original: str) -> str:
    """``upload`` plus the original's extension when it is a plain one (``.xlsx``, ``.tsv``): never a name the
    user chose, never a path."""
    suffix = Path(original).suffix.lower()
    return "upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")


def get_job(root: Path, job_id: str) -> UploadJob | None:
    if not JOB_ID.match(job_id or ""):
        return None
    job = UploadJob(job_id, root / job_id)
    return job if (job.dir / "meta.json").exists() else None


def discard(job: UploadJob) -> None:
    shutil.rmtree(job.dir, ignore_errors=True)


def start_import(app: Flask, job: UploadJob, mapping: dict[str, str], list_name: str | None, force: bool,
                 now: datetime, inline: bool = False) -> None:
    """Import the job's file; in a background thread unless ``inline`` (tests, small deployments)."""
    meta = job.meta()
    job.set_status(state="importing", rows=0, bytes_done=0, total_bytes=meta["size"], started_at=now.isoformat())
    console = app.extensions["console"]

    def run() -> None:
        last = [0.0]

        def progress(rows: int, done: int, total: int) -> None:
            t = time.monotonic()
            if t - last[0] >= PROGRESS_EVERY_S:
                last[0] = t
                job.set_status(state="importing", rows=rows, bytes_done=done, total_bytes=total)

        try:
            # the same DNC scrub as `dialer leads import`: suppressed rows are kept, with their reasons
            scrubber = DncScrubber(console.sessions, campaign=lambda s: get_campaign(s, meta["campaign"]).id, at=now,
                                   operator=meta["uploaded_by"], store=console.dnc_store)
            # all or nothing: the list, its leads and the scrub-ledger record of the load commit together
            result = import_leads(console.sessions, meta["campaign"], job.data_path, now=now, list_name=list_name,
                                  mapping=mapping or None, uploaded_by=meta["uploaded_by"], force=force,
                                  scrubber=scrubber, progress=progress, original_filename=meta["filename"])
        except UserError as e:
            job.set_status(state="failed", error=str(e), repeat="already imported" in str(e),
                           mapping=mapping, list_name=list_name)
            return
        except Exception:
            log.exception("import of upload %s failed", job.id)
            job.set_status(state="failed", error="the import failed on the server (logged); nothing was imported",
                           repeat=False, mapping=mapping, list_name=list_name)
            return
        job.set_status(state="done", rows=result.rows, bytes_done=meta["size"], total_bytes=meta["size"],
                       result=result.as_dict())
        job.data_path.unlink(missing_ok=True)

    if inline:
        release_db()
        run()
    else:
        threading.Thread(target=run, name=f"import-{job.id[:8]}", daemon=True).start()

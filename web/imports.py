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
from campaigns.db import session_scope
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
        return self.dir / "upload.bin"

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


def new_job(root: Path, storage: FileStorage, campaign_id: int, campaign_name: str, uploaded_by: str,
            now: datetime) -> UploadJob:
    """Store an uploaded file under a fresh job id; the original name is kept only as metadata."""
    original = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    if not original:
        raise UserError("choose a file to upload")
    _sweep(root)
    job = UploadJob(secrets.token_hex(16), root)
    job = UploadJob(job.id, root / job.id)
    job.dir.mkdir(parents=True, exist_ok=False)
    storage.save(job.data_path)
    size = job.data_path.stat().st_size
    if size == 0:
        shutil.rmtree(job.dir, ignore_errors=True)
        raise UserError(f"{original}: the file is empty")
    job.write("meta.json", {"campaign_id": campaign_id, "campaign": campaign_name, "filename": original,
                            "safe_name": secure_filename(original) or "list", "size": size,
                            "uploaded_by": uploaded_by, "uploaded_at": now.isoformat()})
    return job


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
            result = import_leads(console.sessions, meta["campaign"], job.data_path, now=now, list_name=list_name,
                                  mapping=mapping or None, uploaded_by=meta["uploaded_by"], force=force,
                                  scrubber=scrubber, progress=progress, original_filename=meta["filename"])
            with session_scope(console.sessions) as s:  # the scrub-ledger record of this list load
                scrubber.record(s, list_ref=f"{result.campaign}/{result.list_name} ({result.source})",
                                file_sha256=result.sha256)
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

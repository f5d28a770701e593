"""The core functions behind ``dlstudy backup``: list, make and restore backups of the review history."""

from __future__ import annotations

from dlstudy.cards import backup
from dlstudy.cards.store import database_path, open_store
from dlstudy.clock import system_clock
from dlstudy.config import load_config
from dlstudy.errors import DlstudyError


def list_backups() -> list[backup.Backup]:
    """The automatic (and manual) backups, newest first."""
    folder = backup.backup_dir(database_path())
    return backup.backups_in(folder) if folder.is_dir() else []


def backup_now() -> backup.Backup:
    """Back up the history now (replacing today's copy), whatever the daily schedule says."""
    with open_store(backup=False) as store:
        if not backup.intact(store.db.raw):
            raise DlstudyError(f"{store.path} is damaged; it is not backed up over a good copy. "
                               "Restore one: `dlstudy backup restore NAME`")
        folder = backup.backup_dir(store.path)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / backup._name(system_clock())
        backup.copy(store.db.raw, target)
        backup.prune(folder, max(load_config().backups_kept, 1))
    return next(b for b in backup.backups_in(folder) if b.path == target)


def restore(name: str) -> dict:
    """Put a backup back as the history; what it replaces is kept beside it."""
    chosen, kept = backup.restore(database_path(), name, system_clock())
    return {"restored": chosen.to_dict(), "replaced_file_kept_as": str(kept) if kept else None}

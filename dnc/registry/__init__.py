"""The National DNC Registry: snapshots as memory-mapped bitsets, loads of full and change lists, a generator."""

from dnc.registry.generate import Generated, generate
from dnc.registry.load import load_changes, load_full
from dnc.registry.snapshot import Snapshot, Store, default_dir, default_store

__all__ = ["Generated", "Snapshot", "Store", "default_dir", "default_store", "generate", "load_changes",
           "load_full"]

"""Crafted agent files: a copy of the shipped agent with a pickled ``data`` entry that would create a marker file."""

import base64
import json
import pickle
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "rl_agents" / "trained" / "dqn_hermite_collision.zip"


class WritesMarker:
    """Unpickling this object creates the file ``marker`` (what a hostile agent file would do, harmlessly)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def crafted_agent(directory: Path, entry: str) -> tuple[Path, Path]:
    """A copy of the shipped agent whose ``data`` entry ``entry`` is a pickle creating ``marker_<entry>``; returns
    the file and the marker's path."""
    marker = directory / f"marker_{entry}"
    crafted = directory / f"crafted_{entry}.zip"
    with zipfile.ZipFile(SHIPPED) as source, zipfile.ZipFile(crafted, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "data":
                data = json.loads(content)
                payload = base64.b64encode(pickle.dumps(WritesMarker(marker))).decode()
                data[entry] = {":type:": "<class 'gymnasium.spaces.box.Box'>", ":serialized:": payload, "_shape": [8]}
                content = json.dumps(data).encode()
            target.writestr(info.filename, content)
    return crafted, marker

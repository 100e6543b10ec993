"""Export: a :class:`~gipextract.report.Report` to files (one module per format).

Every file is written atomically: to a temporary file in the same directory,
then renamed over the target, so a reader never sees half a file and a failed
run leaves no partial output.  :func:`write_files` extends that to a set of
files: all are written to temporaries first and renamed only when every one
succeeded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_files(files: dict[str | os.PathLike, str | bytes], encoding: str = "utf-8") -> list[Path]:
    """Write each ``path → content`` atomically, all or none.

    :param encoding: for ``str`` contents (``utf-8-sig`` gives Excel its BOM).
    :returns: the paths written.
    :raises OutputError: a directory cannot be created or a file cannot be
        written; no target file has been touched then.
    """
    staged: list[tuple[str, Path]] = []
    mode = 0o666 & ~_umask()
    try:
        for path, content in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content if isinstance(content, bytes) else content.encode(encoding))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as e:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise OutputError(f"cannot write output: {e.strerror or e}", path=str(getattr(e, "filename", "") or "")) from None
    return [p for _, p in staged]

"""Conversion of legacy word-processor files to DOCX through headless LibreOffice.

A step before a reader, not a reader of its own (design.md, "Readers"): a
legacy binary Word file (``.doc``, ``.dot``), a Kingsoft WPS file (``.wps``,
``.wpt``: the same OLE2 container with a ``WordDocument`` stream), an RTF file
or an OpenDocument text (``.odt``, ``.ott``) is converted to DOCX by
LibreOffice, and the DOCX reader reads the result, so the one reconstructor
serves them all.  The pipeline records it in ``Source.format`` (what the input
was: ``doc``, ``wps``, ``rtf``, ``odt``) and ``Source.converted_by``
(``"libreoffice"``).

How LibreOffice is run (:class:`Converter`):

* ``soffice --headless --convert-to docx`` with a private profile
  (``-env:UserInstallation``) that belongs to one converter, in a temporary
  directory; a converter is reused for many files (a fresh profile costs about
  1.4 s more per start), and a group of files is converted by one start
  (:meth:`Converter.to_docx_many`);
* in a session of its own, with a time limit: when it runs out, or when
  anything interrupts the wait (a batch's per-file alarm, Ctrl-C), the whole
  process group is killed, so no ``soffice`` process outlives the call;
* every file of a conversion lives in a temporary directory that is removed on
  the way out, whatever happens; ``TMPDIR`` of LibreOffice points into it, so
  even the temporary files of a killed LibreOffice go with it.  The profile is
  removed by :meth:`Converter.close` (and at interpreter or worker-process
  exit).  A process killed outright (``SIGKILL``, or ``SIGTERM`` without a
  handler) cannot clean up: the LibreOffice it started finishes its
  conversion and exits, and the next converter's first run removes the
  directories the dead process left.

The checks that need no LibreOffice come first (:func:`check_legacy`): an OLE2
file that is not a Word document (an ``.xls``), a password-protected Word or
Office file, a damaged or truncated OLE2 file are refused with one line.
"""

from __future__ import annotations

import atexit
import glob
import io
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.util import Finalize
from pathlib import Path

import olefile

from .atomic import pid_alive
from .errors import ReadError, UnsupportedFormatError

#: The formats converted to DOCX before reading: what the input was.  ``.dot``
#: and ``.ott`` templates count as ``doc`` and ``odt``; a ``.wpt`` as ``wps``.
LEGACY_FORMATS = ("doc", "wps", "rtf", "odt")

#: The largest legacy input (bytes) the pipeline hands to LibreOffice (a
#: ``.doc`` with its pictures; a report's text and tables are well under 1 MB).
MAX_BYTES = 200 * 2**20

#: The value of ``Source.converted_by`` for a document converted here.
CONVERTED_BY = "libreoffice"

#: How to install LibreOffice, in messages.
INSTALL_HINT = "apt-get install libreoffice-writer-nogui"

#: Seconds allowed for one LibreOffice run converting one file; a group of
#: ``n`` files gets ``DEFAULT_TIMEOUT + PER_FILE_TIMEOUT * (n - 1)``.
DEFAULT_TIMEOUT = 120.0
PER_FILE_TIMEOUT = 20.0

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_TEXT = b"application/vnd.oasis.opendocument.text"  # also ...text-template
_PROFILE_PREFIX = "gipextract-lo-profile-"
_WORK_PREFIX = "gipextract-lo-work-"
#: The file name extension each format is handed to LibreOffice under (its
#: type detection reads the content; a Kingsoft .wps in the Word container must
#: not be taken for a Microsoft Works .wps).
_SUFFIX = {"doc": ".doc", "wps": ".doc", "rtf": ".rtf", "odt": ".odt"}
_WHAT = {"doc": "a legacy Word document (.doc)", "wps": "a WPS document (.wps)",
         "rtf": "an RTF document", "odt": "an OpenDocument text (.odt)"}


def _ext(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in os.path.basename(name) else ""


def sniff(data: bytes, name: str = "") -> str | None:
    """The legacy format of ``data`` (one of :data:`LEGACY_FORMATS`), or
    ``None`` when it is none of them.  Decided from the first bytes only (so a
    prefix of the file is enough): the OLE2 signature (``doc``, or ``wps`` when
    ``name`` ends in ``.wps``/``.wpt``: the container is the same), ``{\\rtf``,
    or a zip whose first member is an ODF ``mimetype`` of a text document.
    Whether an OLE2 file really holds a Word document is :func:`check_legacy`'s
    question (it needs the whole file)."""
    if data.startswith(_OLE2):
        return "wps" if _ext(name) in (".wps", ".wpt") else "doc"
    if data[:4096].lstrip().startswith(b"{\\rtf"):
        return "rtf"
    # ODF (OpenDocument v1.2 part 3, §3.3): the first zip member is "mimetype", stored, its content the media type
    if data.startswith(b"PK\x03\x04") and data[30:38] == b"mimetype" and _ODF_TEXT in data[38:38 + 80]:
        return "odt"
    return None


def _ole_contents(ole: olefile.OleFileIO) -> str:
    names = {"/".join(p) for p in ole.listdir()}
    if names & {"Workbook", "Book"}:
        return "an Excel workbook (.xls)"
    if "PowerPoint Document" in names:
        return "a PowerPoint presentation (.ppt)"
    if "VisioDocument" in names:
        return "a Visio drawing"
    shown = ", ".join(sorted(names)[:5]) or "no streams"
    return f"an OLE2 file without a WordDocument stream (it holds {shown})"


def check_legacy(data: bytes, fmt: str, path: str) -> None:
    """Refuse, before LibreOffice runs, what it could not convert into a report.

    For ``doc``/``wps`` (MS-CFB container, MS-DOC §2.1): the container must
    parse, hold a ``WordDocument`` stream whose FIB starts with ``wIdent``
    0xA5EC and is not encrypted (``fEncrypted``, MS-DOC §2.5.2).  For ``odt``:
    a readable zip.  RTF is left to LibreOffice.

    :raises ReadError: naming ``path``: a damaged or truncated OLE2 file, an
        OLE2 file that is not a Word document (an ``.xls``), a password-protected
        document (also an encrypted ``.docx``, which is an OLE2 file too), a
        damaged ODF zip.
    """
    if fmt in ("doc", "wps"):
        try:
            ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
        except Exception as e:  # noqa: BLE001 — olefile raises OSError, struct.error, ValueError … on damage
            raise ReadError(f"a damaged or truncated OLE2 (legacy Office) file: {e}", path=path) from None
        try:
            if ole.exists("EncryptedPackage") or ole.exists("EncryptionInfo"):
                raise ReadError("a password-protected Office document; remove the password first", path=path)
            if not ole.exists("WordDocument"):
                raise ReadError(f"{_ole_contents(ole)}, not a Word document", path=path)
            try:
                fib = ole.openstream("WordDocument").read(12)
            except Exception as e:  # noqa: BLE001
                raise ReadError(f"a damaged or truncated Word document: {e}", path=path) from None
            if len(fib) < 12 or struct.unpack_from("<H", fib, 0)[0] != 0xA5EC:
                raise ReadError("a damaged Word document (its WordDocument stream has no valid header)", path=path)
            if struct.unpack_from("<H", fib, 10)[0] & 0x0100:  # FibBase.fEncrypted
                raise ReadError("a password-protected Word document; remove the password first", path=path)
        finally:
            ole.close()
    elif fmt == "odt":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "content.xml" not in zf.namelist():
                    raise ReadError("a damaged OpenDocument file (no content.xml)", path=path)
        except zipfile.BadZipFile as e:
            raise ReadError(f"a damaged or truncated OpenDocument file: {e}", path=path) from None


def find_soffice() -> str | None:
    """The LibreOffice executable: ``$GIPEXTRACT_SOFFICE`` if set (``""``: none),
    else ``soffice`` or ``libreoffice`` on the ``PATH``; ``None`` if there is none."""
    override = os.environ.get("GIPEXTRACT_SOFFICE")
    if override is not None:
        return shutil.which(override) if override else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def _kill_group(proc: subprocess.Popen) -> None:
    """End ``proc``'s whole process group (it leads its own session) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
        pass
    if proc.stdout is not None:
        proc.stdout.close()


#: Signals held back while a run is cleaned up (the process group killed, the
#: temporary files removed), then delivered: a batch's time limit (``SIGALRM``,
#: repeated every 0.1 s once it fired), Ctrl-C, ``SIGTERM``.
_HELD = {signal.SIGALRM, signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back :data:`_HELD` in this thread for the block (their handlers run
    when it ends), so that an interrupt cannot cut a cleanup short."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _remove_stale_profiles() -> None:
    """Remove the profiles and working directories of converters whose process
    is gone (killed before it could clean up):
    ``<tmp>/gipextract-lo-{profile,work}-<pid>-*``."""
    for prefix in (_PROFILE_PREFIX, _WORK_PREFIX):
        for p in glob.glob(os.path.join(tempfile.gettempdir(), prefix + "*")):
            try:
                pid = int(os.path.basename(p)[len(prefix):].split("-", 1)[0])
            except ValueError:
                continue
            if pid != os.getpid() and not pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True)


def _last_line(output: bytes) -> str:
    lines = [ln.strip() for ln in output.decode("utf-8", "replace").splitlines()
             if ln.strip() and "javaldx" not in ln and not ln.startswith("convert ")]
    return lines[-1] if lines else ""


class Converter:
    """Converts legacy files to DOCX with one LibreOffice profile, one run at a time.

    :param soffice: the LibreOffice executable; :func:`find_soffice` by default
        (looked up at each conversion, so installing it later works).
    :param timeout: seconds allowed for a run converting one file (see
        :data:`DEFAULT_TIMEOUT`).

    Thread-safe (a lock serialises the runs: two runs must not share a
    profile).  :meth:`close` removes the profile; so does the end of the
    process (``atexit``, and ``multiprocessing.util.Finalize`` for pool
    workers, where ``atexit`` does not run).
    """

    def __init__(self, soffice: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.soffice = soffice
        self.timeout = timeout
        self._lock = threading.Lock()
        self._profile: str | None = None
        self._finalizer: Finalize | None = None
        #: sha256 of an input → its DOCX bytes or the ReadError of its checks,
        #: filled by :meth:`prepare`, used by :meth:`to_docx`, emptied by :meth:`discard`.
        self._ready: dict[str, bytes | ReadError] = {}

    # -- lifetime ---------------------------------------------------------------

    def _profile_uri(self) -> str:
        if self._profile is None or not os.path.isdir(self._profile):
            _remove_stale_profiles()
            self._profile = tempfile.mkdtemp(prefix=f"{_PROFILE_PREFIX}{os.getpid()}-")
            self._finalizer = Finalize(self, shutil.rmtree, args=(self._profile, True), exitpriority=10)
            atexit.register(shutil.rmtree, self._profile, True)  # where multiprocessing's exit hook does not run it
        return Path(self._profile).as_uri()

    def close(self) -> None:
        """Remove the profile (a later conversion makes a new one)."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._profile = self._finalizer = None
            self._ready.clear()

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversion -------------------------------------------------------------

    def to_docx(self, data: bytes, fmt: str, path: str, sha256: str | None = None) -> bytes:
        """The DOCX bytes of ``data``, a file of legacy format ``fmt`` (one of
        :data:`LEGACY_FORMATS`), converted by LibreOffice.

        :param path: the input's name, for messages.
        :param sha256: the input's digest, to use a result of :meth:`prepare`.
        :raises UnsupportedFormatError: LibreOffice is not installed (the message
            says how to install it).
        :raises ReadError: the checks of :func:`check_legacy`; LibreOffice could
            not convert it, crashed, or took longer than the time limit.
        """
        if sha256 is not None and sha256 in self._ready:
            ready = self._ready[sha256]
            if isinstance(ready, ReadError):
                raise ReadError(ready.message, path=path)
            return ready
        check_legacy(data, fmt, path)
        return self._run([(data, fmt, path)], self.timeout)[0]

    def prepare(self, items: Sequence[tuple[bytes, str, str, str]]) -> None:
        """Convert a group of files in one LibreOffice run, ahead of the
        :meth:`to_docx` calls that will ask for them (a batch worker's chunk),
        which find them by their ``sha256`` until :meth:`discard`.
        ``items`` are ``(data, fmt, path, sha256)``.  Nothing is raised: a file
        that fails is converted again alone by :meth:`to_docx`, so that its
        error is its own; one whose checks fail keeps that error."""
        group: list[tuple[bytes, str, str, str]] = []
        for data, fmt, path, sha in items:
            if sha in self._ready or any(sha == g[3] for g in group):
                continue
            try:
                check_legacy(data, fmt, path)
            except ReadError as e:
                self._ready[sha] = e
                continue
            group.append((data, fmt, path, sha))
        if len(group) < 2:
            return
        try:
            out = self._run([g[:3] for g in group], self.timeout + PER_FILE_TIMEOUT * (len(group) - 1),
                            partial=True)
        except ReadError:
            return
        for (_, _, _, sha), docx in zip(group, out):
            if docx is not None:
                self._ready[sha] = docx

    def discard(self) -> None:
        """Forget the results of :meth:`prepare` not asked for."""
        self._ready.clear()

    def _run(self, items: Sequence[tuple[bytes, str, str]], timeout: float, partial: bool = False) -> list:
        """Run LibreOffice once over ``items`` ``(data, fmt, path)``; the DOCX
        bytes of each (``None`` for one not converted when ``partial``)."""
        path0 = items[0][2]
        soffice = self.soffice or find_soffice()
        if soffice is None:
            override = os.environ.get("GIPEXTRACT_SOFFICE")
            if override:  # the user named one, and it is not there: say which, not "not installed"
                raise UnsupportedFormatError(
                    f"{_WHAT[items[0][1]]}: reading it needs LibreOffice, but GIPEXTRACT_SOFFICE={override} "
                    f"is not an executable program (fix or unset GIPEXTRACT_SOFFICE)", path=path0)
            raise UnsupportedFormatError(
                f"{_WHAT[items[0][1]]}: reading it needs LibreOffice, which is not installed "
                f"(install it: {INSTALL_HINT})", path=path0)
        with self._lock:
            work = tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-")
            clean = False
            try:
                results = self._convert_in(work, soffice, items, timeout, partial)
                clean = True
                return results
            finally:
                with _signals_held():
                    shutil.rmtree(work, ignore_errors=True)
                    if not clean and self._finalizer is not None:  # a killed LibreOffice may leave its profile broken
                        self._finalizer()
                        self._profile = self._finalizer = None

    def _convert_in(self, work: str, soffice: str, items: Sequence[tuple[bytes, str, str]], timeout: float,
                    partial: bool) -> list:
        inputs = []
        for i, (data, fmt, _) in enumerate(items):
            name = os.path.join(work, f"in{i:04d}{_SUFFIX[fmt]}")
            with open(name, "wb") as fh:
                fh.write(data)
            inputs.append(name)
        outdir = os.path.join(work, "out")
        tmp = os.path.join(work, "tmp")
        os.mkdir(tmp)
        cmd = [soffice, f"-env:UserInstallation={self._profile_uri()}", "--headless", "--invisible",
               "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", outdir, *inputs]
        env = dict(os.environ, TMPDIR=tmp, SAL_USE_VCLPLUGIN="svp")
        what, path0 = _WHAT[items[0][1]], items[0][2]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, cwd=work, env=env, start_new_session=True)
        except OSError as e:
            raise ReadError(f"{what}: LibreOffice ({soffice}) could not be started: {e.strerror or e}",
                            path=path0) from None
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReadError(f"{what}: LibreOffice took longer than {timeout:g} s to convert it "
                            "(a damaged file?); not read", path=path0) from None
        finally:  # also on an interrupt (a batch's time limit, Ctrl-C): nothing of LibreOffice survives
            with _signals_held():
                _kill_group(proc)
        results: list[bytes | None] = []
        for i, (_, _, path) in enumerate(items):
            out = os.path.join(outdir, f"in{i:04d}.docx")
            if os.path.isfile(out) and os.path.getsize(out) > 0:
                with open(out, "rb") as fh:
                    results.append(fh.read())
                continue
            if partial:
                results.append(None)
                continue
            if proc.returncode and proc.returncode < 0:
                why = f"LibreOffice crashed (signal {-proc.returncode}) converting it"
            elif proc.returncode:
                why = f"LibreOffice failed converting it (exit status {proc.returncode})"
            else:
                why = "LibreOffice could not convert it (damaged, or not a document it reads)"
            detail = _last_line(output)
            raise ReadError(f"{what}: {why}" + (f": {detail}" if detail else ""), path=path)
        return results


_shared: Converter | None = None
_shared_pid = 0


def converter() -> Converter:
    """The converter of this process (made on first use; a forked child gets
    its own, with its own profile)."""
    global _shared, _shared_pid
    if _shared is None or _shared_pid != os.getpid():
        _shared, _shared_pid = Converter(), os.getpid()
    return _shared


def to_docx(data: bytes, fmt: str, path: str, sha256: str | None = None) -> bytes:
    """:meth:`Converter.to_docx` with this process's :func:`converter`."""
    return converter().to_docx(data, fmt, path, sha256)

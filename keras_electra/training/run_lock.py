"""One writer per run folder: a lock file naming its holder."""

import errno
import functools
import inspect
import json
import logging
import os
import socket
import sys
import time

LOCK_FILE = ".keras-electra.lock"

logger = logging.getLogger("keras_electra.training")


class RunFolderLocked(RuntimeError):
    """Raised when another live job holds a run folder's lock.

    Example:
    ```python
    try:
        with RunLock("/tmp/shared_run"):
            pass
    except RunFolderLocked as e:
        print(e)  # names the holder's pid, host and command
    ```
    """


def pid_alive(pid):
    """Whether a process `pid` runs on this host (os.kill(pid, 0)).

    Example:
    ```python
    assert pid_alive(os.getpid())
    ```
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_holder(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _describe(holder):
    if not holder:
        return "an unknown process (the lock file is unreadable)"
    return (
        f"pid {holder.get('pid')} on host '{holder.get('host')}' since "
        f"{holder.get('started')} ({holder.get('command')})"
    )


class RunLock:
    """Hold `folder/.keras-electra.lock` while a job writes `folder`.

    The lock file is created atomically (`O_CREAT | O_EXCL`) and holds the
    pid, host, start time and command of its holder. A second job asking
    for the same folder gets `RunFolderLocked` naming the holder. A lock
    left by a process that no longer runs on this host (killed with -9,
    say) is stale: it is replaced, with a warning. A lock from another host
    cannot be checked from here; the message says which host to look at
    and that deleting the file releases it.

    Re-entrant within one process: a job that locks a folder can call
    another that locks it again.

    Args:
        folder: str. The run folder; created if missing.

    Example:
    ```python
    with RunLock("/tmp/my_run"):
        pass  # a second RunLock("/tmp/my_run") in another process fails here
    ```
    """

    _held = {}  # absolute folder -> depth, for this process

    def __init__(self, folder):
        self.folder = os.path.abspath(os.fspath(folder))
        self.path = os.path.join(self.folder, LOCK_FILE)

    def acquire(self):
        """Take the lock or raise `RunFolderLocked`."""
        if self._held.get(self.folder):
            self._held[self.folder] += 1
            return self
        os.makedirs(self.folder, exist_ok=True)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "command": " ".join(sys.argv)[:300],
        }
        for _ in range(3):
            try:
                fd = os.open(
                    self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644
                )
            except FileExistsError:
                self._break_if_stale()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(holder, f)
            self._held[self.folder] = 1
            return self
        raise RunFolderLocked(  # pragma: no cover - a lock race lost 3 times
            f"Could not lock the run folder '{self.folder}': {self.path} "
            "keeps reappearing."
        )

    def _break_if_stale(self):
        holder = _read_holder(self.path)
        if holder is None:
            # Being written this instant, or garbage: give it a moment.
            time.sleep(0.2)
            holder = _read_holder(self.path)
        same_host = holder and holder.get("host") == socket.gethostname()
        if same_host and not pid_alive(int(holder.get("pid", -1))):
            logger.warning(
                "Replacing the stale lock of %s in '%s' (that process has "
                "ended).", _describe(holder), self.folder,
            )
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
            return
        hint = (
            "wait for it to finish or stop it"
            if same_host
            else f"check that it no longer runs on '{holder and holder.get('host')}', "
            f"then delete {self.path}"
        )
        raise RunFolderLocked(
            f"The run folder '{self.folder}' is in use by {_describe(holder)}: "
            f"{hint}, or choose another --output."
        )

    def release(self):
        """Give the lock back (the last release removes the file)."""
        depth = self._held.get(self.folder, 0)
        if depth > 1:
            self._held[self.folder] = depth - 1
            return
        self._held.pop(self.folder, None)
        holder = _read_holder(self.path)
        if holder and holder.get("pid") == os.getpid():
            try:
                os.remove(self.path)
            except OSError as e:  # pragma: no cover
                if e.errno != errno.ENOENT:
                    raise

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def locks_run_folder(argument="output_dir"):
    """Decorate a job so that it holds `RunLock` on its output folder.

    Args:
        argument: str. Name of the job's parameter holding the folder.

    Example:
    ```python
    @locks_run_folder("output_dir")
    def job(output_dir):
        return output_dir

    job("/tmp/locked_job")
    ```
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            folder = signature.bind(*args, **kwargs).arguments[argument]
            with RunLock(folder):
                return function(*args, **kwargs)

        return wrapper

    return decorate

"""A TCP proxy in front of the S3 server that can die in the middle of a request.

Killing moto itself loses its in-memory state, so "nothing is visible afterwards" could not be
checked honestly after a restart. Cutting this proxy instead is, for the client, the same thing as
the server going away mid-upload (the connection drops mid-body, then connections are refused),
while moto keeps running behind it so the test can look at what really got stored.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttingProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream>``; :meth:`cut_after` arms a failure."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._budget: int | None = None
        self._drop = 0
        self._sockets: set[socket.socket] = set()
        self.cut = threading.Event()
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._serve()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, client_bytes: int) -> None:
        """After ``client_bytes`` more bytes from clients, drop every connection and stop listening."""
        with self._lock:
            self._budget = client_bytes

    def drop_responses(self, count: int) -> None:
        """Lose the next ``count`` responses (the request reached the server; the reply never comes)."""
        with self._lock:
            self._drop = count

    def restore(self) -> None:
        """The server is back: listen again on the same port."""
        with self._lock:
            self._budget = None
            self.cut.clear()
            self._listener = self._listen(self.port)
        self._serve()

    def close(self) -> None:
        with self._lock:
            self._die()

    # internals

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _serve(self) -> None:
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed: the "server" is down
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                if self.cut.is_set():
                    client.close()
                    upstream.close()
                    continue
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    target.shutdown(socket.SHUT_WR)
                return
            if not from_client:
                with self._lock:
                    dropping = self._drop > 0
                    self._drop -= dropping
                if dropping:
                    for sock in (source, target):
                        with contextlib.suppress(OSError):
                            sock.close()
                    return
            if from_client:
                with self._lock:
                    if self._budget is not None:
                        allowed = data[: self._budget]
                        self._budget -= len(allowed)
                        with contextlib.suppress(OSError):
                            target.sendall(allowed)
                        if self._budget == 0:
                            self._die()
                            return
                        continue
            try:
                target.sendall(data)
            except OSError:
                return

    def _die(self) -> None:
        """Called with the lock held: refuse new connections, reset every open one."""
        self.cut.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()
        self._sockets.clear()

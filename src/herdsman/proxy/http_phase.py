"""The phases of an ``HttpSession``'s transaction (one at a time per client
connection), a leaf: ``http_state.py`` declares the session with them and
``http_upstream.py`` reads them without importing the session."""

from typing import Final

IDLE: Final = 0  # waiting for (the rest of) a request head
SENDING: Final = 1  # request head parsed: its body still comes from the client
WAITING: Final = 2  # request complete, waiting for the server
TUNNEL: Final = 3  # after a 101 or a CONNECT: raw bytes both ways
CLOSED: Final = 4

"""``userlist`` sections (HAProxy's ``auth.c``): users, their passwords and
groups, read by ``http_auth()``, ``http_auth_group()`` and
``http-request auth``.

A password is compared with ``crypt(3)`` (the system's libcrypt, as HAProxy
built with ``USE_LIBCRYPT``), an ``insecure-password`` as is. The lists are
parsed by ``config/kw_users.py``; ``postinit()`` resolves the group names
the way ``userlist_postinit()`` does, with its messages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass, field
from functools import cache


@dataclass
class User:
    name: str
    password: str | None = None
    insecure: bool = False
    groups_names: str | None = None  # "groups a,b" until postinit()
    groups: set[bytes] = field(default_factory=set)


@dataclass
class Group:
    name: str
    users: str | None = None  # "users a,b" until postinit()


@dataclass
class Userlist:
    name: str
    users: list[User] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def user(self, name: str) -> User | None:
        return next((u for u in self.users if u.name == name), None)

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def postinit(self) -> str | None:
        """``userlist_postinit()`` for this list: the first alert, or None."""
        for user in self.users:
            if not user.groups_names:
                continue
            for name in (g for g in user.groups_names.split(",") if g):
                if self.group(name) is None:
                    return f"userlist '{self.name}': no such group '{name}' specified in user '{user.name}'"
                user.groups.add(name.encode())
        for group in self.groups:
            if not group.users:
                continue
            for name in (u for u in group.users.split(",") if u):
                found = self.user(name)
                if found is None:
                    return f"userlist '{self.name}': no such user '{name}' specified in group '{group.name}'"
                found.groups.add(group.name.encode())
            group.users = None
        return None

    def check(self, user: bytes, password: bytes) -> bool:
        """``check_user()``."""
        found = self.user(user.decode("utf-8", "surrogateescape"))
        if found is None or found.password is None:
            return False
        expected = found.password.encode("utf-8", "surrogateescape")
        if found.insecure:
            return password == expected
        return crypt(password, expected) == expected

    def groups_of(self, user: bytes) -> set[bytes]:
        found = self.user(user.decode("utf-8", "surrogateescape"))
        return found.groups if found is not None else set()


@cache
def _libcrypt() -> ctypes._NamedFuncPointer | None:
    path = ctypes.util.find_library("crypt")
    if path is None:
        return None
    fn = ctypes.CDLL(path).crypt
    fn.restype = ctypes.c_char_p
    fn.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    return fn


def crypt(password: bytes, salt: bytes) -> bytes | None:
    """``crypt(3)``: None when the system cannot hash with that salt."""
    fn = _libcrypt()
    if fn is None:
        return None
    out = fn(password, salt)
    if out is None or out.startswith(b"*"):  # libxcrypt's failure tokens ("*0", "*1")
        return None
    return bytes(out)

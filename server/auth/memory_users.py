"""MemoryUserStore: the UserStore in dictionaries, for tests and the in-memory server."""

import time
from collections.abc import Callable

import msgspec
from argon2 import PasswordHasher

from server.auth.base_users import BaseUserStore
from server.auth.errors import DuplicateUser
from server.auth.passwords import HASHER
from server.auth.users import Account, StoredToken, TokenInfo, User


class MemoryUserStore(BaseUserStore):
    """A UserStore in dictionaries, for tests and the in-memory server."""

    def __init__(
        self, hasher: PasswordHasher = HASHER, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(hasher, clock)
        self._accounts: dict[str, Account] = {}
        self._stored_tokens: dict[str, StoredToken] = {}

    async def _account(self, username: str) -> Account | None:
        return self._accounts.get(username.lower())

    async def _users(self) -> list[User]:
        return [account.user for account in self._accounts.values()]

    async def _insert_user(self, account: Account) -> None:
        key = account.user.username.lower()
        if key in self._accounts:
            raise DuplicateUser(account.user.username)
        self._accounts[key] = account

    def _change(self, account: Account, **changes: object) -> None:
        self._accounts[account.user.username.lower()] = msgspec.structs.replace(account, **changes)

    async def _store_hash(self, username: str, password_hash: str) -> bool:
        account = self._accounts.get(username.lower())
        if account is None:
            return False
        self._change(account, password_hash=password_hash, session_epoch=account.session_epoch + 1)
        return True

    async def _rehash(self, username: str, old_hash: str, new_hash: str) -> None:
        account = self._accounts.get(username.lower())
        if account is not None and account.password_hash == old_hash:
            self._change(account, password_hash=new_hash)

    async def _next_epoch(self, username: str) -> bool:
        account = self._accounts.get(username.lower())
        if account is None:
            return False
        self._change(account, session_epoch=account.session_epoch + 1)
        return True

    async def _store_disabled(self, username: str, disabled: bool) -> bool:
        account = self._accounts.get(username.lower())
        if account is None:
            return False
        user = msgspec.structs.replace(account.user, disabled=disabled)
        self._change(account, user=user, session_epoch=account.session_epoch + disabled)
        return True

    async def _insert_token(self, token: StoredToken) -> None:
        self._stored_tokens[token.info.token_id] = token

    async def _token(self, token_id: str) -> StoredToken | None:
        return self._stored_tokens.get(token_id)

    async def _tokens(self, username: str) -> list[TokenInfo]:
        key = username.lower()
        return [t.info for t in self._stored_tokens.values() if t.info.username.lower() == key]

    async def _revoke(self, token_id: str, at: float) -> bool:
        token = self._stored_tokens.get(token_id)
        if token is None:
            return False
        if token.info.revoked_at is None:
            revoked = msgspec.structs.replace(token.info, revoked_at=at)
            self._stored_tokens[token_id] = StoredToken(revoked, token.digest)
        return True

    async def _close(self) -> None:
        pass

"""Where a source may fetch from: its configured origin, the hosts it allows, and never a non-public address.

A page's links and any redirect are untrusted: a link to the cloud metadata address, to another port of the
machine, or to someone else's host must not be fetched (and its answer must not end up in the database).
Pure functions, except `resolve_host`, which asks the system resolver.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ICE_HOSTS = ("www.ice.gov", "ice.gov")  # where ICE's page links its spreadsheets and MOAs
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_SPELLING = re.compile(r"[0-9a-fA-FxX.]+")  # decimal, octal (0177.0.0.1), hex (0x7f.1), short (127.1)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host spelt as an IP stands for, in every spelling the C resolver accepts (2130706433,
    0177.0.0.1, 0x7f.0.0.1, 127.1, [::1], ::ffff:127.0.0.1, fe80::1%eth0); None for a name."""
    bare = host.strip().strip("[]").split("%", 1)[0].rstrip(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _IPV4_SPELLING.fullmatch(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))  # parses only; no lookup
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """An IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64): it is where packets go."""
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in _NAT64 or (int(ip) >> 32) == 0:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(ip: IPAddress) -> str | None:
    """None for a public unicast address; else why not: loopback, private, link-local (cloud metadata)..."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not ip.is_loopback and not ip.is_unspecified:
            return address_kind(embedded)
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def resolve_host(host: str) -> list[IPAddress]:
    """Every address the host name resolves to (an IP spelling is parsed, not looked up); [] if none."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []  # the fetch itself will fail and say so
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def origin(url: str) -> str:
    """scheme://host:port, lower case, the port explicit: two URLs with one origin are one server."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return origin_of(scheme, parts.hostname or "", port)


def origin_of(scheme: str, host: str, port: int | None) -> str:
    port = port or (443 if scheme == "https" else 80)
    host = host.lower().strip("[]").rstrip(".")
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class FetchScope:
    """`home` (the configured URL's origin) is always allowed, whatever its address: that is how a source on
    127.0.0.1 is tested, and it is the operator's choice. Anything else must be on one of `hosts` (None: any
    host) and resolve only to public addresses, and no URL may carry user:password@."""

    home: str
    hosts: frozenset[str] | None = None

    @classmethod
    def around(cls, url: str, hosts: Iterable[str] | None = None) -> FetchScope:
        allowed = None if hosts is None else frozenset(h.lower().rstrip(".") for h in hosts)
        return cls(origin(url), allowed)

    def refusal(self, url: str, resolve: Callable[[str], list[IPAddress]] = resolve_host) -> str | None:
        """Why `url` must not be fetched, naming its host; None if it may be."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        if parts.username is not None or parts.password is not None:
            return f"refused {host}: the URL carries credentials (user:password@)"
        if origin(url) == self.home:
            return None
        if self.hosts is not None and host not in self.hosts:
            allowed = ", ".join(sorted(self.hosts)) or "none"
            return f"refused {host}: not the page's own server nor an allowed host ({allowed}; see allowed_hosts)"
        literal = ip_literal(host)
        for ip in [literal] if literal else resolve(host):
            kind = address_kind(ip)
            if kind:
                return f"refused {host}: it {'is' if literal else 'resolves to'} {ip}, a {kind} address"
        return None

    def peer_refusal(self, scheme: str, host: str, port: int | None, peer: str) -> str | None:
        """Checked on the connected socket, before anything is sent: the name may resolve differently now."""
        if origin_of(scheme, host, port) == self.home:
            return None
        ip = ipaddress.ip_address(peer.split("%", 1)[0])
        kind = address_kind(ip)
        return f"refused {host}: connected to {ip}, a {kind} address" if kind else None

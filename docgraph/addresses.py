"""Client IP addresses: parsed, put in canonical form, counted by the key per-address limits
use, and matched against trusted networks. For the audit log, login throttling and the edge;
the HTTP side (which address a request comes from) is docgraph/http/client_address.py.

The address is the TCP peer's, unless the peer is one of the configured trusted proxies
(`DOCGRAPH_TRUSTED_PROXIES`, none by default): then X-Forwarded-For is read from the right,
skipping trusted hops, and the first address not trusted is the client. A forwarded value that
is no IP address stops the walk at the last trusted hop, so a garbage header can neither pick an
address nor dodge the per-address limits. X-Forwarded-Proto is believed from trusted proxies only.

Addresses are stored in canonical form: compressed IPv6, IPv4-mapped IPv6 as plain IPv4, and
without an IPv6 zone (`%eth0`: it names an interface of this host, not the client), so any
valid address fits the 64-character `ip_address` columns whole.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Throttling and connection caps count an IPv6 client by its /64: one subscriber gets a whole
# /64 (RFC 6177), so counting single addresses would give one client 2^64 budgets.
IPV6_CLIENT_PREFIX = 64
# Forwarded chains longer than this are cut: the walk is bounded whatever a client sends.
MAX_FORWARDED_HOPS = 32


def parse_address(value: str | None) -> IPAddress | None:
    """An IP address without zone, IPv4-mapped IPv6 as IPv4; None when `value` is none."""
    if not value or len(value) > 100:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalize_address(value: str | None) -> str | None:
    """The canonical text of an address ("::ffff:10.0.0.1" → "10.0.0.1"), None if it is none."""
    address = parse_address(value)
    return str(address) if address is not None else None


def address_key(value: str | None) -> str:
    """What per-address limits count: the IPv4 address, an IPv6 address's /64, or "unknown"."""
    address = parse_address(value)
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR networks ("10.0.0.0/8", "::1"); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(networks)


def is_trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: IPAddress, forwarded_for: list[str], networks: tuple[IPNetwork, ...]) -> IPAddress:
    """The client behind trusted proxies: the rightmost hop of X-Forwarded-For that is not
    trusted; the last trusted hop when the chain ends or holds something that is no address."""
    client = peer
    hops = [hop for header in forwarded_for for hop in header.split(",")][-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not is_trusted(address, networks):
            break
    return client



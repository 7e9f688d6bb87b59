"""What a check run is told about its server, taken from core's live objects.

``build_target()`` makes the ``CheckTarget`` of a check (address, port and
transport per spec §4.2, timeouts per §4.6); ``state_header()`` is the value
of ``X-Haproxy-Server-State`` for ``http-check send-state`` (§5.5), computed
when the request is sent. The check engine itself only sees the snapshot.
"""

from __future__ import annotations

import socket

from herdsman.checks.external import ExternalSpec, listener_words
from herdsman.checks.target import CheckTarget
from herdsman.checks.tls import CheckContexts
from herdsman.config.model import Mode
from herdsman.config.model_addr import Family
from herdsman.core.backend import Check
from herdsman.core.netns import STORE
from herdsman.core.states import SrvState


def build_target(
    chk: Check,
    down: bool,
    node: str,
    pp2_never_send_local: bool,
    tls: CheckContexts | None = None,
) -> CheckTarget:
    """The snapshot of ``chk``'s server; ``down``: its next state is STOPPED;
    ``tls``: the server's TLS contexts for checks.

    An agent connects to ``agent-addr`` (else the server's address) and
    ``agent-port``, in plain TCP (spec §9.1).
    """
    srv = chk.server
    cfg = srv.cfg
    be = srv.backend
    if chk.agent:
        addr = cfg.agent_addr or srv.addr
        port = cfg.agent_port
    else:
        addr = srv.check_addr or srv.addr
        port = srv.check_port or (srv.check_addr.port if srv.check_addr else 0)
    if not port and not srv.addr.mapped:
        port = srv.addr.port
    if addr.family in (Family.UNIX, Family.ABNS):
        family = socket.AF_UNIX
        host = addr.host if addr.family is Family.UNIX else "\0" + addr.host
    else:
        family = socket.AF_INET6 if addr.family is Family.INET6 else socket.AF_INET
        host = addr.host
    inherit = not srv.check_port and srv.check_addr is None
    send_proxy = not chk.agent and (
        cfg.check_send_proxy or (inherit and (cfg.send_proxy or cfg.send_proxy_v2))
    )
    # the check transport: check-ssl, else the server's own without port/addr (§4.2);
    # an agent speaks plain TCP
    use_tls = not chk.agent and (
        cfg.check_ssl == 1 or (cfg.check_ssl == 0 and inherit and cfg.tls.enabled)
    )
    t = be.cfg.timeouts
    return CheckTarget(
        backend_name=be.name,
        server_name=srv.name,
        backend_id=be.cfg.uuid,
        server_id=srv.puid,
        family=family,
        host=host,
        port=port,
        send_proxy=send_proxy,
        proxy_v2=cfg.send_proxy_v2,
        pp2_never_send_local=pp2_never_send_local,
        inter=chk.inter,
        timeout_check=t.check,
        timeout_connect=t.connect,
        server_down=down,
        tls=use_tls,
        check_sni=cfg.check_sni,
        check_alpn=cfg.check_alpn,
        tls_context=tls,
        tls_verify=tls is not None and tls.verify,
        tls_verifyhost=cfg.tls.verifyhost,
        state_header=lambda: state_header(chk, node),
        node=node,
        make_socket=lambda fam: STORE.socket(cfg.namespace, fam),
    )


def external_spec(chk: Check) -> ExternalSpec:
    """``prepare_external_check()``: what an external check's runs share (spec §8.2)."""
    srv = chk.server
    px = srv.backend.cfg
    proxy_addr, proxy_port = listener_words(px.binds)
    proto = (srv.cfg.proto or "h1") if px.mode is Mode.HTTP else "tcp"
    return ExternalSpec(
        command=px.external_command or "",
        path=px.external_path or "",
        proxy_name=px.name,
        proxy_id=px.uuid,
        proxy_addr=proxy_addr,
        proxy_port=proxy_port,
        server_name=srv.name,
        server_id=srv.puid,
        maxconn=srv.cfg.maxconn,
        ssl=srv.cfg.tls.enabled,
        proto=proto,
    )


def state_header(chk: Check, node: str) -> str:
    """``httpchk_build_status_header()`` (spec §5.5)."""
    srv = chk.server
    be = srv.backend
    if not chk.enabled:
        state = "no check"
    elif srv.cur_state is not SrvState.STOPPED:
        word = "NOLB" if srv.cur_state is SrvState.STOPPING else "UP"
        full = chk.health == chk.rise + chk.fall - 1
        state = word if full else f"{word} {chk.health - chk.rise + 1}/{chk.fall}"
    else:
        state = "DOWN" if chk.health == 0 else f"DOWN {chk.health}/{chk.rise}"
    addr = srv.addr
    if addr.family in (Family.UNIX, Family.ABNS):
        address, port = "unix", ""
    else:
        address, port = addr.host, str(addr.port & 0xFFFFFFFF)
    wmult, wdiv = be.wmult, be.wdiv
    weight = -(-srv.eweight * wmult // wdiv)
    total = -(-(be.tot_weight) * wmult // wdiv)
    return (
        f"{state}; address={address}; port={port}; name={srv.id}; node={node}; "
        f"weight={weight}/{total}; scur={srv.served}/{be.beconn}; qcur={srv.nbpend}"
    )

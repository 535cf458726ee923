"""One chat request, step by step: principal → limits → policy → DLP → route → stream → audit.

``prepare`` runs everything that may refuse the request before a provider is called;
``complete`` (whole answer) and ``stream`` (events as they arrive) then call the router,
filter the answer through DLP, settle the budget reservation and write exactly one audit
record — for streams before the final event is flushed, so a client that saw the end of
its answer knows the request is on record. Content never reaches the audit record or a
log line: only counts, codes, tokens, cost and timings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import g, request

from gateway.audit.records import new_id, now
from gateway.audit.spool import AuditUnavailableError
from gateway.auth.principal import Principal, current_principal
from gateway.errors import ApiError, ValidationFailed
from gateway.router import Router
from gateway.router.relay import Relayed
from gateway.router.relay import stream as relay_stream
from gateway.router.router import Target
from gateway.services import services
from shared.audit import AuditRecord
from shared.chat import ChatRequest, ChatResponse, ContentPart, TextPart, Usage
from shared.dlp import DlpFinding
from shared.errors import ErrorDetail, ValidationError
from shared.events import (
    DlpNotice,
    ErrorEvent,
    MessageEnd,
    MessageStart,
    StreamEvent,
    TextDelta,
    ToolCallStart,
    UsageEvent,
)
from shared.validate import check_chat_request

AUDIT_FAILED = ("The answer is complete, but the gateway could not record it in its audit "
                "log; treat it as failed and try again shortly.")


@dataclass
class Prepared:
    """A request that passed every check, with what its answer and audit need."""

    req: ChatRequest
    targets: tuple[Target, ...]
    principal: Principal
    router: Router
    audit: Any
    endpoint: str
    request_id: str
    client_address: str
    started: float
    keepalive: float
    findings: tuple[DlpFinding, ...] = ()
    dlp_engine: Any = None  # gateway.dlp.DlpEngine, when the answer must be filtered
    dlp_outcome: Any = None  # gateway.dlp.DlpOutcome: its placeholders, for restoring
    reservation: Any = None
    response_findings: tuple[DlpFinding, ...] = field(default=())


def prepare(req: ChatRequest, endpoint: str) -> Prepared:
    principal = current_principal()
    svc = services()
    p = Prepared(req=req, targets=(), principal=principal, router=svc.router, audit=svc.audit,
                 endpoint=endpoint, request_id=g.get("request_id", ""),
                 client_address=request.remote_addr or "", started=time.perf_counter(),
                 keepalive=svc.settings.router_keepalive)
    try:
        if p.audit is not None and not endpoint.startswith("/api/"):
            p.audit.admit()  # the compat doors too: refuse now if the request cannot be audited
        try:
            check_chat_request(req)
        except ValidationError as exc:
            raise ValidationFailed(f"Invalid request: {exc}") from None
        # Request-rate limits run before the view (gateway.limits); the tenant's model
        # allow-list and aliases are the policy step.
        p.targets = p.router.plan(req.model, principal.tenant_id, principal.tenant_name)
        if svc.dlp is not None:
            # the tenant's engine (DlpEngine.from_policy of its policy, cached by gateway.dlp)
            engine = svc.dlp.engine_for(principal.tenant_id, principal.tenant_name)
            outcome = engine.scan_request(req)
            p.findings = tuple(outcome.findings)
            if outcome.blocked:
                raise outcome.error()  # 422 dlp_blocked, naming types only
            p.req, p.dlp_outcome = outcome.request, outcome
            if engine.policy.scan_responses or outcome.restore is not None:
                p.dlp_engine = engine  # the answer goes through its filter
        p.reservation = _reserve(svc, principal, p)  # the limits' one call site
    except ApiError as exc:
        _audit(p, exc.status, exc.code)
        raise
    return p


def _reserve(svc: Any, principal: Principal, p: Prepared) -> Any:
    budgets = svc.budgets
    if budgets is None:
        return None
    chars = sum(len(part.text) for m in p.req.messages for part in m.content
                if isinstance(part, TextPart))
    estimate_in = chars // 4 + 1
    worst_out = p.req.max_tokens or max(t.model.max_output_tokens for t in p.targets)
    worst_cost = max(t.model.cost(estimate_in, worst_out) for t in p.targets)
    return budgets.reserve(principal, estimate_in + worst_out, worst_cost, model=p.req.model)


def complete(p: Prepared) -> ChatResponse:
    try:
        answer = p.router.complete(p.req, p.targets)
    except ApiError as exc:
        _finish_budget(p, None)
        _audit(p, exc.status, exc.code)
        raise
    if p.dlp_engine is not None:
        answer = _filter_answer(p, answer)
    elif p.findings:
        answer = dataclasses.replace(answer, dlp=p.findings)
    _finish_budget(p, answer.usage)
    ms = (time.perf_counter() - p.started) * 1000
    _audit(p, 200, "", answer.model, answer.provider, answer.usage, ttfb_ms=ms)
    return answer


def _filter_answer(p: Prepared, answer: ChatResponse) -> ChatResponse:
    parts: list[ContentPart] = []
    findings: list[DlpFinding] = []
    for part in answer.content:
        if isinstance(part, TextPart):
            flt = p.dlp_engine.response_filter(p.dlp_outcome)
            text = flt.feed(part.text) + flt.flush()
            findings.extend(flt.findings)
            parts.append(TextPart(text))
        else:
            parts.append(part)
    p.response_findings = tuple(findings)
    return ChatResponse(id=answer.id, model=answer.model, provider=answer.provider,
                        content=tuple(parts), stop_reason=answer.stop_reason,
                        usage=answer.usage, dlp=p.findings + p.response_findings)


def stream(p: Prepared) -> Iterator[Relayed]:
    """Events for the client (with the relay's flush points and keep-alives); the audit
    record is written before the final one."""
    model = provider = ""
    usage: Usage | None = None
    ttfb = 0.0
    done = False
    flt = p.dlp_engine.response_filter(p.dlp_outcome) if p.dlp_engine is not None else None
    try:
        for event in relay_stream(p.router, p.req, p.targets, p.keepalive):
            if isinstance(event, TextDelta):
                if flt is not None:
                    text = flt.feed(event.text)
                    if not text:
                        continue
                    event = TextDelta(text)
            elif isinstance(event, MessageStart):
                ttfb = (time.perf_counter() - p.started) * 1000
                model, provider = event.model, event.provider
                yield event
                if p.findings:
                    yield DlpNotice(p.findings, "request")
                continue
            elif isinstance(event, ToolCallStart) and flt is not None:
                yield from _flushed(flt)
            elif isinstance(event, UsageEvent):
                if flt is not None:
                    yield from _flushed(flt)
                    p.response_findings = tuple(flt.findings)
                    if p.response_findings:
                        yield DlpNotice(p.response_findings, "response")
                usage = Usage(event.input_tokens, event.output_tokens, event.cost)
            elif isinstance(event, (MessageEnd, ErrorEvent)):
                done = True
                _finish_budget(p, usage)
                code = event.error.code if isinstance(event, ErrorEvent) else ""
                try:
                    _audit(p, 502 if code else 200, code, model, provider, usage, ttfb)
                except AuditUnavailableError:
                    event = ErrorEvent(ErrorDetail("audit_unavailable", AUDIT_FAILED))
                if isinstance(event, ErrorEvent):
                    event = ErrorEvent(ErrorDetail(event.error.code, event.error.message,
                                                   p.request_id))
                yield event
                return
            yield event
    finally:
        if not done:  # the client went away (or the worker is stopping)
            _finish_budget(p, usage)
            with contextlib.suppress(AuditUnavailableError):  # nobody left to tell
                _audit(p, 499, "", model, provider, usage, ttfb)


def _flushed(flt: Any) -> Iterator[StreamEvent]:
    text = flt.flush()
    if text:
        yield TextDelta(text)


def _finish_budget(p: Prepared, usage: Usage | None) -> None:
    if p.reservation is None:
        return
    if usage is None:
        p.reservation.release()
    else:
        p.reservation.settle(usage)


def _audit(p: Prepared, status: int, error_code: str, model: str = "", provider: str = "",
           usage: Usage | None = None, ttfb_ms: float = 0.0) -> None:
    if p.audit is None:
        return
    usage = usage or Usage()
    pr = p.principal
    p.audit.record(AuditRecord(
        id=new_id(), time=now(), kind="request", tenant_id=pr.tenant_id,
        request_id=p.request_id, user_id=pr.user_id, principal_id=pr.credential_id,
        client_address=p.client_address, endpoint=p.endpoint,
        model=model or p.req.model[:200], provider=provider, status=status,
        error_code=error_code, input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens, cost=usage.cost,
        latency_ms=round((time.perf_counter() - p.started) * 1000, 3),
        ttfb_ms=round(ttfb_ms, 3), dlp=p.findings + p.response_findings, rate_limit="ok",
    ))


def dlp_summary(findings: tuple[DlpFinding, ...]) -> str:
    """``EMAIL=2:redact,AWS_ACCESS_KEY_ID=1:block`` (types and counts, never values)."""
    return ",".join(f"{f.type}={f.count}:{f.action}" for f in findings)

"""The vitals chart's data: series, alert lines, dose marks and axis ranges, against minutes since the first dose."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from kapconsole.domain.enums import EntryKind
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.record import SessionRecord, parse_ts
from kapconsole.reports import data as d


def _nice_step(span: float) -> float:
    return 15 if span <= 180 else 30 if span <= 360 else 60


def chart(record: SessionRecord) -> d.Chart | None:
    """Three stacked panels (BP and HR, SpO2, RR) against minutes since the first dose."""
    vitals = record.vitals
    if not vitals:
        return None
    first = record.first_dose_at
    ref = first or vitals[0].at

    def minute(at: datetime) -> float:
        return (at - ref).total_seconds() / 60

    def series(key: str) -> d.ChartSeries:
        pts = tuple((minute(c.at), float(c.payload[key])) for c in vitals if key in c.payload)
        return d.ChartSeries(key, MEASURES[key][0], pts)

    xs = [minute(c.at) for c in vitals]
    doses = []
    for i, dose in enumerate(record.administrations, start=1):
        end = parse_ts(dose.payload["ended_at"]) if "ended_at" in dose.payload else None
        doses.append(d.DoseMark(minute(dose.at), f"dose {i}: {dose.payload['dose']:g} {dose.payload['unit']}",
                                minute(end) if end else None))
        xs += [minute(dose.at)] + ([minute(end)] if end else [])
    marks = events(record, minute)
    xs += [e.minute for e in marks]
    step = _nice_step(max(xs) - min(0.0, *xs))
    x_min = math.floor(min(0.0, *xs) / 15) * 15
    x_max = max(x_min + 60, math.ceil(max(xs) / 15) * 15)
    ticks = tuple(float(t) for t in range(math.ceil(x_min / step) * int(step), int(x_max) + 1, int(step)))
    ticks = ((x_min,) if x_min < ticks[0] - step / 3 else ()) + ticks
    alerts = record.protocol.alerts
    base = record.baseline_vitals or {}

    def lines(*spec: tuple[str, str, str]) -> tuple[d.Threshold, ...]:
        out = []
        for key, bound, text in spec:
            lim = alerts.get(key)
            value = getattr(lim, bound) if lim else None
            if value is not None:
                out.append(d.Threshold(text.format(v=value), float(value), key))
        return tuple(out)

    bp = (series("sbp"), series("dbp"), series("hr"))
    bp_lines = lines(("sbp", "high", "SBP ≥ {v:g}"), ("dbp", "high", "DBP ≥ {v:g}"), ("hr", "high", "HR > {v:g}"),
                     ("hr", "low", "HR < {v:g}"))
    if first is not None and "sbp" in base:
        rise = base["sbp"] + record.protocol.sbp_rise_alert
        sbp_alert = alerts["sbp"].high if "sbp" in alerts else None
        if sbp_alert is None or rise < sbp_alert:
            bp_lines += (d.Threshold(f"SBP baseline +{record.protocol.sbp_rise_alert}", float(rise), "sbp"),)
    bp_values = [v for s in bp for _, v in s.points] + [t.value for t in bp_lines]
    spo2 = series("spo2")
    low_spo2 = min([v for _, v in spo2.points], default=100.0)
    rr = series("rr")
    rr_high = max([v for _, v in rr.points], default=0.0)
    panels = (
        d.ChartPanel("Blood pressure (mmHg) and heart rate (/min)",
                     min(40.0, math.floor(min(bp_values, default=40) / 20) * 20),
                     max(200.0, math.ceil((max(bp_values, default=200) + 5) / 20) * 20), 20, bp, bp_lines),
        d.ChartPanel("SpO2 (%)", min(85.0, math.floor((low_spo2 - 2) / 5) * 5), 100, 5, (spo2,),
                     lines(("spo2", "low", "SpO2 < {v:g}"))),
        d.ChartPanel("Respiratory rate (/min)", 0, max(40.0, math.ceil((rr_high + 5) / 10) * 10), 10, (rr,),
                     lines(("rr", "low", "RR < {v:g}"), ("rr", "high", "RR > {v:g}"))),
    )
    label = "minutes since first dose" if first is not None else "minutes since first reading"
    return d.Chart(x_min, x_max, ticks, panels, tuple(doses), label, marks)


def events(record: SessionRecord, minute: Callable[[datetime], float]) -> tuple[d.ChartEvent, ...]:
    """The event row: doses, rescue medications, side effects, scale scores and discharge, by time."""
    out = []
    doses = record.administrations
    main = doses[0].payload["drug"].casefold() if doses else ""
    n = 0
    for dose in doses:
        if dose.payload["drug"].casefold() == main:
            n += 1
            out.append(d.ChartEvent(minute(dose.at), "dose", f"D{n}"))
        else:
            out.append(d.ChartEvent(minute(dose.at), "rescue", "Rx"))
    out += [d.ChartEvent(minute(c.at), "side effect", "SE") for c in record.side_effects]
    out += [d.ChartEvent(minute(c.at), "scale", "S") for c in record.current(EntryKind.SCALE)]
    if record.signature is not None:
        out.append(d.ChartEvent(minute(record.signature.observed_at), "discharge", "DC"))
    return tuple(sorted(out, key=lambda e: e.minute))

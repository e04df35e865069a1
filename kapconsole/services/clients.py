"""Clients at the front desk: add, edit, search, the version history of every change, and CSV import."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import ClientRow, ClientVersionRow, SessionRow
from kapconsole.domain import validation as v
from kapconsole.domain.allergies import fold
from kapconsole.domain.enums import SessionState
from kapconsole.domain.errors import NotFound, StaleRecord, ValidationError
from kapconsole.domain.frontdesk import (
    FIELD_LABELS,
    FIELD_ORDER,
    ClientDetails,
    ClientVersion,
    ImportOutcome,
    ImportReport,
    ImportRow,
    encode_field,
    parse_allergies,
    search_key,
)
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Client
from kapconsole.services.base import ServiceBase, authorize, valid_id
from kapconsole.services.planning import replan

#: CSV column → client field. ``allergies`` holds the structured list (``substance|reaction|severity; …``);
#: ``allergy_note`` the free-text note beside it.
CSV_COLUMNS: dict[str, str] = {
    **{name: name for name in FIELD_ORDER if name not in ("allergies", "allergy_list")},
    "allergies": "allergy_list",
    "allergy_note": "allergies",
}
CSV_ALIASES = {"dob": "date_of_birth", "birth_date": "date_of_birth", "weight": "weight_kg", "weighed_on": "weight_on",
               "id": "identifier", "client_id": "identifier", "full_name": "name", "conditions": "screening_notes",
               "medication": "medications", "escort": "escort_name", "driver": "escort_name",
               "driver_phone": "escort_phone"}
MAX_IMPORT_ROWS = 20000


def _apply(row: ClientRow, d: ClientDetails) -> None:
    row.identifier, row.name, row.date_of_birth, row.sex = d.identifier, d.name, d.date_of_birth, d.sex
    row.pronouns, row.weight_kg, row.weight_on = d.pronouns, d.weight_kg, d.weight_on
    row.allergies = d.allergies
    row.allergy_list = json.dumps(encode_field("allergy_list", d.allergy_list), ensure_ascii=False)
    row.medications, row.screening_notes = d.medications, d.screening_notes
    row.emergency_contact, row.emergency_phone = d.emergency_contact, d.emergency_phone
    row.escort_name, row.escort_phone = d.escort_name, d.escort_phone
    row.search_key = search_key(d.name, d.identifier)


def _changed_labels(changes: dict[str, Any]) -> str:
    return ", ".join(FIELD_LABELS[name] for name in changes)


class ClientService(ServiceBase):
    # ----- add and edit --------------------------------------------------------------------------------
    def add(self, actor: Actor, details: ClientDetails) -> Client:
        """Register a client; the first version of the history holds every value given."""
        clean = details.validated(self.now().date())
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_CLIENTS)
            return self._add(s, actor, clean, action="created")

    def edit(self, actor: Actor, client_id: int, details: ClientDetails, *,
             expected_version: int | None = None) -> Client:
        """Change a client's details. ``expected_version``: the version the form was filled from; if someone
        saved in between, :class:`StaleRecord` asks to review their change first. Nothing changed: no new version.
        """
        clean = details.validated(self.now().date())
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_CLIENTS)
            row = self._row(s, client_id, for_update=True)
            if expected_version is not None and row.version != expected_version:
                raise StaleRecord(f"client {row.identifier} was changed at another desk (version {row.version}); "
                                  "review the current details and make the change again")
            return self._edit(s, actor, row, clean, action="edited")

    def _add(self, s: Session, actor: Actor, clean: ClientDetails, *, action: str) -> Client:
        self._check_identifier_free(s, clean.identifier, None)
        now = self.now()
        row = ClientRow(created_at=now, updated_at=now, version=1)
        _apply(row, clean)
        s.add(row)
        s.flush()
        empty = ClientDetails(identifier="", name="")
        changes = {k: (None, new) for k, (_, new) in clean.changes_from(empty).items()}
        self._version(s, actor, row, action, changes)
        repo.add_audit(s, at=now, action="client_added", actor=actor, detail=f"client {row.id}")
        return repo.client_value(row)

    def _edit(self, s: Session, actor: Actor, row: ClientRow, clean: ClientDetails, *, action: str) -> Client:
        current = repo.client_value(row)
        changes = clean.changes_from(current.details)
        if not changes:
            return current
        if "identifier" in changes:
            self._check_identifier_free(s, clean.identifier, row.id)
        _apply(row, clean)
        row.version = (row.version or 1) + 1
        row.updated_at = self.now()
        s.flush()
        # Sessions planned but not begun take the corrected details into their header.
        for session in s.scalars(select(SessionRow).where(SessionRow.client_id == row.id,
                                                          SessionRow.state == SessionState.PLANNED.value)):
            replan(s, session, self.now())
        self._version(s, actor, row, action, changes)
        repo.add_audit(s, at=self.now(), action="client_edited", actor=actor,
                       detail=f"client {row.id} version {row.version}: {_changed_labels(changes)}")
        s.flush()
        return repo.client_value(row)

    def _version(self, s: Session, actor: Actor, row: ClientRow, action: str, changes: dict[str, Any]) -> None:
        s.add(ClientVersionRow(
            client_id=row.id, version=row.version, at=self.now(), actor_id=actor.staff_id, actor_name=actor.name,
            workstation=actor.workstation, action=action,
            changes=json.dumps({k: list(v) for k, v in changes.items()}, ensure_ascii=False, sort_keys=True),
        ))

    @staticmethod
    def _check_identifier_free(s: Session, identifier: str, own_id: int | None) -> None:
        other = s.scalar(select(ClientRow.id).where(func.lower(ClientRow.identifier) == identifier.lower()))
        if other is not None and other != own_id:
            raise ValidationError("client identifier", identifier, "this identifier is already in use")

    @staticmethod
    def _row(s: Session, client_id: int, *, for_update: bool = False) -> ClientRow:
        if not valid_id(client_id):
            raise NotFound(f"there is no client {client_id!r}")
        stmt = select(ClientRow).where(ClientRow.id == client_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).one_or_none()
        if row is None:
            raise NotFound(f"there is no client {client_id}")
        return row

    # ----- reading -------------------------------------------------------------------------------------
    def get(self, client_id: int) -> Client:
        with self.db.read() as s:
            return repo.client_value(self._row(s, client_id))

    def by_identifier(self, identifier: str) -> Client:
        with self.db.read() as s:
            row = s.scalars(select(ClientRow).where(func.lower(ClientRow.identifier) == identifier.strip().lower())
                            ).one_or_none()
            if row is None:
                raise NotFound(f"there is no client {identifier!r}")
            return repo.client_value(row)

    def search(self, text: str = "", *, limit: int = 100) -> list[Client]:
        """Clients whose name or identifier contains ``text``, ignoring case and accents ("nunez" finds
        "Ñúñez"), by name."""
        text = v.search_text("search", text) or ""
        limit = v.count("limit", limit, low=1, high=10_000)
        with self.db.read() as s:
            stmt = select(ClientRow).order_by(ClientRow.name, ClientRow.id).limit(limit)
            key = fold(text)
            if key:
                stmt = stmt.where(ClientRow.search_key.contains(key, autoescape=True))
            return [repo.client_value(r) for r in s.scalars(stmt)]

    def versions(self, actor: Actor, client_id: int) -> list[ClientVersion]:
        """The history of a client's details, newest first."""
        with self.db.read() as s:
            authorize(s, actor, Action.MANAGE_CLIENTS)
            self._row(s, client_id)
            rows = s.scalars(select(ClientVersionRow).where(ClientVersionRow.client_id == client_id)
                             .order_by(ClientVersionRow.version.desc()))
            return [ClientVersion(r.client_id, r.version, r.at, r.actor_name, r.workstation, r.action,
                                  {k: (v[0], v[1]) for k, v in json.loads(r.changes).items()}) for r in rows]

    # ----- CSV import ----------------------------------------------------------------------------------
    def import_csv(self, actor: Actor, text: str, *, dry_run: bool) -> ImportReport:
        """Add or update clients from CSV text (a header row names the columns; ``identifier`` and ``name``
        are required). A column present sets its field (an empty cell clears it); a column left out keeps the
        value. Rows with an error are reported and skipped; the others are saved together in one unit of work.
        """
        records = _read_csv(text)
        if dry_run:
            with self.db.read() as s:
                actor = authorize(s, actor, Action.MANAGE_CLIENTS)
                return ImportReport(tuple(self._import_rows(s, actor, records, apply=False)), applied=False)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_CLIENTS)
            rows = tuple(self._import_rows(s, actor, records, apply=True))
            repo.add_audit(s, at=self.now(), action="clients_imported", actor=actor,
                           detail=", ".join(f"{o.value} {sum(1 for r in rows if r.outcome is o)}" for o in ImportOutcome))
            return ImportReport(rows, applied=True)

    def _import_rows(self, s: Session, actor: Actor, records: Iterable[tuple[int, dict[str, str]]], *,
                     apply: bool) -> Iterable[ImportRow]:
        today = self.now().date()
        seen: dict[str, int] = {}
        for line, record in records:
            ident = (record.get("identifier") or "").strip()
            try:
                if "__error__" in record:
                    raise ValidationError("CSV row", record["__error__"], "as many cells as the header has columns")
                if not ident:
                    raise ValidationError("client identifier", None, "it is required")
                if fold(ident) in seen:
                    raise ValidationError("client identifier", ident, f"also on line {seen[fold(ident)]} of the file")
                seen[fold(ident)] = line
                row = s.scalars(select(ClientRow).where(func.lower(ClientRow.identifier) == ident.lower())
                                ).one_or_none()
                base = repo.client_value(row).details if row is not None else ClientDetails(identifier="", name="")
                values: dict[str, Any] = {}
                for column, field in CSV_COLUMNS.items():
                    if column in record:
                        cell = record[column]
                        values[field] = parse_allergies(cell) if field == "allergy_list" else (
                            cell.strip() or None if field in ("date_of_birth", "weight_on", "weight_kg") else cell)
                clean = replace(base, **values).validated(today)
                if row is None:
                    if apply:
                        self._add(s, actor, clean, action="imported")
                    yield ImportRow(line, ident, ImportOutcome.ADDED, "")
                    continue
                changes = clean.changes_from(base)
                if not changes:
                    yield ImportRow(line, ident, ImportOutcome.UNCHANGED, "")
                    continue
                if apply:
                    self._edit(s, actor, row, clean, action="imported")
                yield ImportRow(line, ident, ImportOutcome.CHANGED, _changed_labels(changes))
            except ValidationError as exc:
                yield ImportRow(line, ident, ImportOutcome.ERROR, str(exc))


def _read_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("CSV file", "(empty)", "a header row naming the columns is expected") from None
    except csv.Error as exc:
        raise ValidationError("CSV file", "header", f"not readable as CSV ({exc})") from None
    names = []
    for raw in header:
        key = "_".join(fold(raw).replace("/", " ").replace("-", " ").split())
        key = CSV_ALIASES.get(key, key)
        if key not in CSV_COLUMNS:
            raise ValidationError("CSV column", raw, "columns are " + ", ".join(CSV_COLUMNS))
        if key in names:
            raise ValidationError("CSV column", raw, "each column once")
        names.append(key)
    for required in ("identifier", "name"):
        if required not in names:
            raise ValidationError("CSV columns", ", ".join(header), f"a column '{required}' is required")
    out: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(out) >= MAX_IMPORT_ROWS:
                raise ValidationError("CSV file", f"more than {MAX_IMPORT_ROWS} rows", "split the file")
            if len(cells) > len(names):
                ident = cells[names.index("identifier")]
                out.append((reader.line_num, {"identifier": ident, "__error__": f"{len(cells)} cells"}))
                continue
            # A short row sets only the columns it has: the missing cells keep the stored values.
            out.append((reader.line_num, dict(zip(names[: len(cells)], cells, strict=True))))
    except csv.Error as exc:
        raise ValidationError("CSV file", f"line {reader.line_num}", f"not readable as CSV ({exc})") from None
    return out

"""The live session: its controller, header, timeline, vitals chart, quick entry and dialogs."""

"""manage.py train_triage: train the petition triage model now and print its held-out scores."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from petitions import triage


class Command(BaseCommand):
    help = "Train the petition triage model on the labelled petitions; print accuracy and macro-F1."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = triage.train()
        except triage.TriageError as exc:
            raise CommandError(str(exc)) from None
        m = row.metrics
        self.stdout.write(f"Mô hình #{row.pk}, lĩnh vực: {self._scores(m)}")
        urgency = m.get("urgency") or {}
        self.stdout.write(
            f"Mức khẩn: {self._scores(urgency)}" if "accuracy" in urgency else f"Mức khẩn: {urgency.get('missing')}"
        )

    @staticmethod
    def _scores(m: dict[str, Any]) -> str:
        return (
            f"accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} "
            f"(baseline {m['baseline_accuracy']:.3f} / {m['baseline_macro_f1']:.3f}), "
            f"{m['train_rows']} train / {m['test_rows']} test"
        )

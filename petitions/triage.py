"""Petition triage and similar petitions, learnt from the district's own petitions and measured (issue 19,
item 4). Nothing here is a fixed rule: the category comes from a model trained on petitions whose category
an officer stood by, and every model carries its held-out scores next to a majority-class baseline.

- Labelled petitions: those an officer has acted on (verified, assigned, resolved…: the category stood) and
  those whose category an officer confirmed or corrected on the desk (`recategorise` events).
- Features: TF-IDF of character n-grams (2–5, within words) and of word uni- and bigrams, both on the text
  folded to lower case without diacritics (gis_ioc.lib.text.fold), so "mất điện", "mat dien" and "mat dien"
  with a typo land close; a logistic regression with balanced class weights.
- Measured on a stratified held-out fifth: accuracy, macro-F1 and the confusion matrix, against the
  majority class. The responsible agency follows from the predicted category through the district's own
  routing rules (petitions.models.RoutingRule), as for a category an officer chose.
- Urgency is a second model of the same kind, learnt from the urgency officers set on the desk (Petition.urgency)
  and measured the same way. Too few urgency labels leaves it out of that training, with the reason in the
  metrics; the category model is trained all the same.
- A model is a file under the data root (never served) and a `TriageModel` row; training that cannot be done
  (too few labelled petitions, a category with a single example) raises TriageError and keeps the old model.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc.lib.text import fold
from petitions.models import Category, Petition, PetitionEvent, Status, TriageModel, Urgency

MIN_LABELLED = 200
TEST_SHARE = 0.2
SEED = 24931
RECATEGORISE = "recategorise"  # the desk's event when an officer confirms or corrects a category
LABELLED_STATUSES = [Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]


class TriageError(ValueError):
    """Training that cannot be done; the message says why (the previous model stays in use)."""


def labelled() -> tuple[list[str], list[str]]:
    """(texts, categories) of the petitions whose category an officer stood by."""
    from django.db.models import Q

    confirmed = PetitionEvent.objects.filter(action=RECATEGORISE).values("petition_id")
    rows = Petition.objects.filter(Q(status__in=LABELLED_STATUSES) | Q(pk__in=confirmed)).values_list(
        "description", "category"
    )
    texts, labels = [], []
    for text, category in rows:
        texts.append(text)
        labels.append(category)
    return texts, labels


def labelled_urgency() -> tuple[list[str], list[str]]:
    """(texts, urgencies) of the petitions an officer has judged."""
    rows = Petition.objects.exclude(urgency="").values_list("description", "urgency")
    return [t for t, _u in rows], [u for _t, u in rows]


def label_of(value: str) -> str:
    for choices in (Category, Urgency):
        if value in choices.values:
            return str(choices(value).label)
    return value


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                      sublinear_tf=True)),
            ("words", TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ]
    )  # fmt: skip
    return Pipeline([("features", features), ("model", LogisticRegression(C=8.0, max_iter=3000,
                                                                           class_weight="balanced"))])  # fmt: skip


def _check(labels: list[str], too_few: str, too_thin: str) -> None:
    """Raise TriageError when these labels cannot be learnt and measured: fewer than MIN_LABELLED in all
    (`too_few`, with %(need)s and %(have)s), or a class with fewer than 5 (`too_thin`, with %(cats)s)."""
    if len(labels) < MIN_LABELLED:
        raise TriageError(too_few % {"need": MIN_LABELLED, "have": len(labels)})
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    thin = sorted(c for c, n in counts.items() if n < 5)
    if thin:
        raise TriageError(too_thin % {"cats": ", ".join(label_of(c) for c in thin)})


def _fit(texts: list[str], labels: list[str], order: list[str] | None = None) -> tuple[Any, dict[str, Any]]:
    """A model trained on four fifths, and its scores on the held-out fifth against the majority class."""
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=TEST_SHARE, random_state=SEED, stratify=labels
    )
    model = _pipeline().fit(x_train, y_train)
    predicted = model.predict(x_test)
    baseline = DummyClassifier(strategy="most_frequent").fit(x_train, y_train).predict(x_test)
    classes = [c for c in order if c in set(labels)] if order else sorted(set(labels))  # the matrix's order
    return model, {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(f1_score(y_test, predicted, average="macro")),
        "baseline_accuracy": float(accuracy_score(y_test, baseline)),
        "baseline_macro_f1": float(f1_score(y_test, baseline, average="macro", zero_division=0)),
        "labels": classes,
        "confusion": confusion_matrix(y_test, predicted, labels=classes).tolist(),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
    }


def train(
    texts: list[str] | None = None,
    labels: list[str] | None = None,
    urgency: tuple[list[str], list[str]] | None = None,
) -> TriageModel:
    """Train on the labelled petitions, measure on a held-out fifth, store the model and make it current.
    `urgency`: (texts, levels) to learn urgency from; by default the petitions officers have judged."""
    import joblib

    if texts is None or labels is None:
        texts, labels = labelled()
    _check(
        labels,
        _("Cần ít nhất %(need)s phản ánh đã được cán bộ xác nhận lĩnh vực để huấn luyện; hiện có %(have)s."),
        _("Mỗi lĩnh vực cần ít nhất 5 phản ánh đã xác nhận; còn thiếu: %(cats)s."),
    )
    category_model, metrics = _fit(texts, labels)
    urgency_texts, levels = urgency if urgency is not None else labelled_urgency()
    urgency_model = None
    try:
        _check(
            levels,
            _("Cần ít nhất %(need)s phản ánh đã được cán bộ đánh giá mức khẩn; hiện có %(have)s."),
            _("Mỗi mức khẩn cần ít nhất 5 phản ánh đã đánh giá; còn thiếu: %(cats)s."),
        )
    except TriageError as why:  # the category model stands on its own; the page says why urgency is missing
        metrics["urgency"] = {"missing": str(why)}
    else:
        urgency_model, metrics["urgency"] = _fit(urgency_texts, levels, order=list(Urgency.values))
    folder = Path(settings.MEDIA_ROOT) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"triage-{timezone.now():%Y%m%d-%H%M%S-%f}.joblib"
    joblib.dump({"category": category_model, "urgency": urgency_model}, path)
    with transaction.atomic():
        TriageModel.objects.update(current=False)
        row = TriageModel.objects.create(file=str(path.relative_to(settings.MEDIA_ROOT)), metrics=metrics, current=True)
    return row


@functools.lru_cache(maxsize=2)
def _load(path: str, _mtime: float) -> Any:
    import joblib

    loaded = joblib.load(path)
    # Models trained before urgency was learnt are a bare category pipeline.
    return loaded if isinstance(loaded, dict) else {"category": loaded, "urgency": None}


def current() -> TriageModel | None:
    return TriageModel.objects.filter(current=True).order_by("-created_at").first()


def _ranked(model: Any, text: str) -> list[tuple[str, float]]:
    probabilities = model.predict_proba([text])[0]
    return sorted(((str(c), float(p)) for c, p in zip(model.classes_, probabilities, strict=True)), key=lambda x: -x[1])


def suggest(text: str, commune_code: str = "") -> dict[str, Any] | None:
    """The current model's category for a text, with its confidence and the agency the routing rules give
    that category in the commune, and its urgency when the model learnt one; None before any training."""
    row = current()
    if row is None:
        return None
    path = Path(settings.MEDIA_ROOT) / row.file
    if not path.exists():
        return None
    models = _load(str(path), path.stat().st_mtime)
    ranked = _ranked(models["category"], text)
    best, confidence = ranked[0]
    answer: dict[str, Any] = {
        "category": best,
        "label": label_of(best),
        "confidence": confidence,
        "runner_up": [(label_of(c), p) for c, p in ranked[1:3]],
        "agency": agency_for(best, commune_code),
        "model": row,
        "urgency": None,
    }
    if models.get("urgency") is not None:
        level, sure = _ranked(models["urgency"], text)[0]
        answer["urgency"] = {"level": level, "label": label_of(level), "confidence": sure}
    return answer


def agency_for(category: str, commune_code: str) -> Any:
    """The agency the district's routing rules give a category in a commune (commune rule first)."""
    from petitions.models import RoutingRule

    rules = RoutingRule.objects.filter(category=category).select_related("agency")
    rule = rules.filter(commune_code=commune_code).first() or rules.filter(commune_code="").first()
    return rule.agency if rule else None


# --- similar petitions ------------------------------------------------------------------------------------
SIMILAR_RADIUS_M = 1500
SIMILAR_DAYS = 60
SIMILAR_MIN_SCORE = 0.3


def similar(petition: Petition, user: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Petitions near in place and time whose text says the same thing, best first, among those the user may
    see. score = 0.6 × text similarity (TF-IDF cosine of the folded texts) + 0.4 × closeness (1 at the same
    spot, 0 at SIMILAR_RADIUS_M)."""
    from django.contrib.gis.db.models.functions import Distance
    from django.contrib.gis.measure import D
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from gis_ioc import permissions

    window = dt.timedelta(days=SIMILAR_DAYS)
    candidates = list(
        permissions.scope_queryset(user, Petition.objects.all())
        .filter(received_at__range=(petition.received_at - window, petition.received_at + window))
        .filter(geom__distance_lte=(petition.geom, D(m=SIMILAR_RADIUS_M)))
        .exclude(pk=petition.pk)
        .exclude(status=Status.REJECTED)
        .annotate(distance=Distance("geom", petition.geom))
        .only("id", "tracking_code", "description", "category", "status", "received_at", "geom")[:300]
    )
    if not candidates:
        return []
    vectoriser = TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectoriser.fit_transform([petition.description] + [c.description for c in candidates])
    texts = cosine_similarity(matrix[0], matrix[1:])[0]
    out: list[dict[str, Any]] = []
    for candidate, text_score in zip(candidates, texts, strict=True):
        distance = getattr(candidate, "distance", None)  # the Distance annotation above
        metres = float(distance.m) if distance is not None else float(SIMILAR_RADIUS_M)
        closeness = max(0.0, 1 - metres / SIMILAR_RADIUS_M)
        score = 0.6 * float(text_score) + 0.4 * closeness
        if score >= SIMILAR_MIN_SCORE:
            out.append({"petition": candidate, "score": score, "text": float(text_score), "metres": metres})
    return sorted(out, key=lambda item: -float(item["score"]))[:limit]

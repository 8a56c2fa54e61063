"""A model card as a document: the fields a reader needs (the card and the version it describes), its
exports (JSON, a standalone HTML page, PDF) and the line diff between two revisions."""

from __future__ import annotations

import difflib
import io
from typing import Any
from xml.sax.saxutils import escape

from django.template.loader import render_to_string

from engine.training import METRICS

from .models import CARD_TEXT_FIELDS, CardStatus, ModelCard, RiskRating
from .services import card_content


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, value in metrics.items():
        base = name.removeprefix("test_")
        entry = METRICS.get(base)
        label = entry.label if entry else base.replace("_", " ")
        rows.append({"name": name, "label": f"{label} (held-out rows)" if name.startswith("test_") else label,
                     "value": value})
    return rows


def card_document(card: ModelCard) -> dict[str, Any]:
    version = card.version
    return {
        "model_group": version.group.name, "version": version.number, "project": version.group.project.slug,
        "approval_status": version.approval_status, "source": version.source, "algorithm": version.algorithm,
        "problem_type": version.problem_type, "target": version.target, "format": version.format,
        "sha256": version.artifact.sha256, "signature": version.signature, "metrics": version.metrics,
        "dataset": (f"{version.dataset_version.dataset.name} v{version.dataset_version.number}"
                    if version.dataset_version else None),
        "registered_by": version.created_by.username if version.created_by else None,
        "registered_at": version.created_at.isoformat(),
        "card": {**card_content(card), "updated_at": card.updated_at.isoformat(),
                 "updated_by": card.updated_by.username if card.updated_by else None},
    }


def card_sections(content: dict[str, Any]) -> list[tuple[str, str]]:
    return [(label, content.get(name, "")) for name, label in CARD_TEXT_FIELDS]


def card_html(card: ModelCard) -> str:
    document = card_document(card)
    return render_to_string("registry/card_export.html", {
        "document": document, "card": card, "version": card.version,
        "sections": card_sections(document["card"]), "metric_rows": metric_rows(card.version.metrics),
        "status_label": CardStatus(card.status).label, "risk_label": RiskRating(card.risk_rating).label})


def _paragraphs(text: str, style: Any) -> list[Any]:
    from reportlab.platypus import Paragraph

    # Paragraph reads a small markup language, so the card's text is escaped first: it is shown, never parsed.
    blocks = [block for block in (text or "").split("\n\n") if block.strip()]
    return [Paragraph(escape(block).replace("\n", "<br/>"), style) for block in blocks] or \
        [Paragraph("<i>Not filled in.</i>", style)]


def card_pdf(card: ModelCard, *, evaluation: dict[str, Any] | None = None) -> bytes:
    """The card as PDF; with the job's evaluation, its confusion matrix and feature importance too."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    version = card.version
    document = card_document(card)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Model card: {version}", author="ML Studio")
    story: list[Any] = [Paragraph(escape(f"Model card: {version.group.name} version {version.number}"),
                                  styles["Title"])]
    facts = [
        ["Card status", CardStatus(card.status).label], ["Risk rating", RiskRating(card.risk_rating).label],
        ["Approval", version.get_approval_status_display()], ["Source", version.get_source_display()],
        ["Algorithm", version.algorithm or "not recorded"], ["Problem type", version.problem_type or "not recorded"],
        ["Target", version.target or "not recorded"], ["Data", document["dataset"] or "not recorded"],
        ["Model file", f"{version.format}, sha256 {version.artifact.sha256[:16]}…"],
        ["Registered", f"{document['registered_at'][:16].replace('T', ' ')} by {document['registered_by'] or '?'}"],
    ]
    table_style = TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                              ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)])
    story += [Table([[Paragraph(escape(a), styles["BodyText"]), Paragraph(escape(b), styles["BodyText"])]
                     for a, b in facts], colWidths=[40 * mm, 130 * mm], style=table_style), Spacer(1, 6 * mm)]
    for label, text in card_sections(document["card"]):
        story.append(Paragraph(escape(label), styles["Heading2"]))
        story += _paragraphs(text, styles["BodyText"])
    rows = metric_rows(version.metrics)
    story.append(Paragraph("Metrics", styles["Heading2"]))
    if rows:
        story.append(Table([["Metric", "Value"]] + [[row["label"], f"{row['value']:.4g}" if isinstance(
            row["value"], int | float) else str(row["value"])] for row in rows], colWidths=[90 * mm, 40 * mm], hAlign="LEFT",
            style=table_style))
    else:
        story += _paragraphs("No metrics were recorded for this version.", styles["BodyText"])
    story += _evaluation_flowables(evaluation or {}, styles, table_style)
    story.append(Paragraph("Input signature", styles["Heading2"]))
    signature = ", ".join(f"{column.get('name')} ({column.get('type')})" for column in version.signature)
    story += _paragraphs(signature or "Not recorded.", styles["BodyText"])
    if card.custom_fields:
        story.append(Paragraph("Custom fields", styles["Heading2"]))
        story.append(Table([[Paragraph(escape(entry["key"]), styles["BodyText"]),
                             Paragraph(escape(entry["value"]), styles["BodyText"])] for entry in card.custom_fields],
                           colWidths=[50 * mm, 120 * mm], style=table_style))
    pdf.build(story)
    return buffer.getvalue()


def _lines(content: dict[str, Any]) -> list[str]:
    lines = [f"Status: {content.get('status', '')}", f"Risk rating: {content.get('risk_rating', '')}"]
    for label, text in card_sections(content):
        lines.append(f"## {label}")
        lines += (text or "").splitlines() or [""]
    lines.append("## Custom fields")
    lines += [f"{entry.get('key')}: {entry.get('value')}" for entry in content.get("custom_fields") or []]
    return lines


def card_diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, line) pairs: kind is 'added', 'removed', 'context' or 'hunk'; the file headers are left out."""
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "context")
        out.append((kind, line))
    return out


MAX_PDF_CLASSES = 20
MAX_PDF_FEATURES = 15


def _evaluation_flowables(evaluation: dict[str, Any], styles: Any, table_style: Any) -> list[Any]:
    """The evaluation charts a PDF can carry: the confusion matrix as a table, feature importance as bars."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table

    out: list[Any] = []
    confusion = (evaluation.get("charts") or {}).get("confusion_matrix")
    if confusion and len(confusion.get("labels", [])) <= MAX_PDF_CLASSES:
        labels = [str(label) for label in confusion["labels"]]
        rows = [["true / predicted", *labels]] + [[label, *[str(cell) for cell in row]]
                                                   for label, row in zip(labels, confusion["matrix"], strict=False)]
        out += [Paragraph("Confusion matrix", styles["Heading3"]), Table(rows, style=table_style, hAlign="LEFT")]
    importance = [entry for entry in evaluation.get("feature_importance") or []
                  if isinstance(entry.get("importance"), int | float)][:MAX_PDF_FEATURES]
    if importance:
        height = 14 * len(importance) + 30
        drawing = Drawing(170 * mm, height)
        chart = HorizontalBarChart()
        chart.x, chart.y, chart.width, chart.height = 130, 15, 170 * mm - 150, height - 25
        chart.data = [[float(entry["importance"]) for entry in reversed(importance)]]
        chart.categoryAxis.categoryNames = [str(entry["column"])[:30] for entry in reversed(importance)]
        chart.categoryAxis.labels.fontSize = 8
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontSize = 8
        chart.bars[0].fillColor = colors.HexColor("#2f6fb5")
        drawing.add(chart)
        out += [Paragraph("Feature importance", styles["Heading3"]), drawing]
    return out

"""Load the demo project with real datasets that ship inside installed packages (no download):
scikit-learn's breast cancer data and the Palmer penguins. Does nothing if the demo project exists."""

from __future__ import annotations

import pandas as pd
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.models import Project
from apps.core.services import project_create

DEMO_SLUG = "demo"


def breast_cancer_frame() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["target"] = frame["target"].map(dict(enumerate(bunch.target_names)))
    return frame.rename(columns={"target": "diagnosis"})


def penguins_frame() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


class Command(BaseCommand):
    help = "Create the demo project with the breast cancer and penguins datasets."

    def handle(self, *args, **options) -> None:
        from apps.datasets.services import dataset_import_dataframe

        if Project.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("The demo project exists already; keeping it.")
            return
        admin = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
        if admin is None:
            raise CommandError("Create an administrator first (manage.py bootstrap_admin).")
        project = project_create(
            name="Demo", slug=DEMO_SLUG, user=admin,
            description="Real public datasets that ship with scikit-learn and palmerpenguins.",
        )
        demos = [
            ("breast-cancer", breast_cancer_frame(), "Wisconsin diagnostic breast cancer data (scikit-learn): "
             "30 measurements of cell nuclei per sample and the diagnosis, malignant or benign."),
            ("penguins", penguins_frame(), "Palmer Archipelago penguins (palmerpenguins): species, island, "
             "bill and flipper measurements, body mass, sex and year; has missing values."),
        ]
        for name, frame, description in demos:
            dataset = dataset_import_dataframe(project=project, user=admin, name=name, frame=frame,
                                               description=description)
            self.stdout.write(f"Loaded dataset '{dataset.name}' ({len(frame)} rows).")
        self.stdout.write(self.style.SUCCESS("Demo project ready."))

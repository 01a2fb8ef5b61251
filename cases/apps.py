from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Resident requests")

    def ready(self) -> None:
        from . import reference  # noqa: F401  (connects the signals that refresh the form's shared lists)
        from . import timeline  # noqa: F401  (registers the labels of the actions cases writes)
        from django.db.models.signals import post_delete, pre_delete

        from communities.models import Building, on_unit_move

        from .tallies import building_deleted, building_deleting, unit_moved

        on_unit_move(unit_moved)  # the hotspot tallies of the tiers a moved unit left and joined
        pre_delete.connect(building_deleting, sender=Building, dispatch_uid="cases.hotspots.building_deleting")
        post_delete.connect(building_deleted, sender=Building, dispatch_uid="cases.hotspots.building_deleted")

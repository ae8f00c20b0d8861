from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectifyConfig(AppConfig):
    name = "rectify"
    verbose_name = _("用户与角色")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rectify.middleware import session_stamp

        user_logged_in.connect(session_stamp, dispatch_uid="rectify.session_stamp")

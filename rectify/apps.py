from django.apps import AppConfig


class RectifyConfig(AppConfig):
    name = "rectify"
    verbose_name = "用户与角色"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rectify.middleware import session_stamp

        user_logged_in.connect(session_stamp, dispatch_uid="rectify.session_stamp")

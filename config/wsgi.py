import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.paths import var_dirs_ensure  # noqa: E402  (needs the settings configured above)

var_dirs_ensure()

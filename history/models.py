"""History of the accounts: users and their role (group) membership.

Django's own models are tracked here, in an app of ours, so that their event tables have
migrations we own. The password hash and the last login are not copied: the history must not
become a store of old password hashes, and a login is not a change of the account.
"""

import pghistory
from django.contrib.auth import get_user_model

from history.tracking import track

User = get_user_model()

track(exclude=("password", "last_login"), app_label="history", model_name="UserEvent")(User)
track(
    pghistory.InsertEvent("role.add"),
    pghistory.DeleteEvent("role.remove"),
    app_label="history",
    model_name="UserGroupEvent",
)(User.groups.through)

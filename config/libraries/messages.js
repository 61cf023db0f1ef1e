/*
 * The Django admin's JavaScript strings (its djangojs catalogue) that Django 5.2's Ukrainian
 * lacks: the two-box selector of a user's or group's permissions, and the changelist's action
 * warnings. The JavaScript twin of messages.py: never served nor run, only read by
 * `makemessages -d djangojs`, so that our djangojs catalogue (LOCALE_PATHS, merged over the admin's
 * own by its /admin/jsi18n/ view) keeps and translates them.
 */
gettext_noop('Choose %s by selecting them and then select the "Choose" arrow button.');
gettext_noop('Choose all %s');
gettext_noop('Choose selected %s');
gettext_noop('Remove selected %s');
gettext_noop('Remove %s by selecting them and then select the "Remove" arrow button.');
gettext_noop('Type into this box to filter down the list of selected %s.');
gettext_noop('(click to clear)');
gettext_noop('Remove all %s');
ngettext('%s selected option not visible', '%s selected options not visible', 0);
gettext_noop('You have selected an action, but you haven’t saved your changes to individual fields yet. Please click OK to save. You’ll need to re-run the action.');
gettext_noop('You have selected an action, and you haven’t made any changes on individual fields. You’re probably looking for the Go button rather than the Save button.');

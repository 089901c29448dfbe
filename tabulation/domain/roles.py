"""The roles of the people who work an election night, by the names of their
Django groups (services/roles.py gives them permissions).

- clerk: enters the records of the stations assigned to them;
- commission member (staff): decides and certifies;
- administrator (staff): sets up the election and the accounts;
- observer: submits its copies of records (docs/observers.md), sees only those.
"""

ROLE_CLERK = "clerk"
ROLE_COMMISSION_MEMBER = "commission member"
ROLE_ADMINISTRATOR = "administrator"
ROLE_OBSERVER = "observer"
# The roles an election's accounts file may give (docs/import-format.md).
ROLES = (ROLE_CLERK, ROLE_COMMISSION_MEMBER, ROLE_ADMINISTRATOR)
# And the observer, accredited for a list or an organisation with
# `manage.py accredit_observer`, never imported: an account without its
# accreditation would be an observer of nothing.
ALL_ROLES = (*ROLES, ROLE_OBSERVER)
# Roles that work in the admin site and see everything.
STAFF_ROLES = (ROLE_COMMISSION_MEMBER, ROLE_ADMINISTRATOR)

"""Every blueprint of the console, in one list (``create_app`` registers them; the role matrix covers them)."""

from web.auth import bp as auth
from web.campaigns import bp as campaigns
from web.compliance import bp as compliance
from web.home import bp as home
from web.lists import bp as lists
from web.reports import bp as reports
from web.users import bp as users

ALL = (auth, home, campaigns, lists, compliance, reports, users)

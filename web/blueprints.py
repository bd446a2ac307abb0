"""Every blueprint of the console, in one list (``create_app`` registers them; the role matrix covers them)."""

from web.agent import bp as agent
from web.auth import bp as auth
from web.callbacks import bp as callbacks
from web.callerid import bp as callerid
from web.campaigns import bp as campaigns
from web.compliance import bp as compliance
from web.floor import bp as floor
from web.home import bp as home
from web.lists import bp as lists
from web.reports import bp as reports
from web.strategy import bp as strategy
from web.users import bp as users

ALL = (auth, home, agent, campaigns, callbacks, callerid, strategy, lists, floor, compliance, reports, users)

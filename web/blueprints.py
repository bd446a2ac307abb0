"""Every blueprint of the console, in one list (``create_app`` registers them; the role matrix covers them)."""

from web.agent import bp as agent
from web.agent_calls import bp as agent_calls
from web.agent_unfinished import bp as _with_unfinished  # noqa: F401  (adds the unfinished calls to ``agent``)
from web.auth import bp as auth
from web.callbacks import bp as callbacks
from web.callerid import bp as callerid
from web.campaign_settings import bp as settings
from web.campaigns import bp as campaigns
from web.compliance import bp as compliance
from web.floor import bp as floor
from web.home import bp as home
from web.leads import bp as leads
from web.list_admin import bp as listadmin
from web.lists import bp as lists
from web.planner import bp as planner
from web.report_schedules import bp as _with_schedules  # noqa: F401  (adds the schedule pages to ``reports``)
from web.reports import bp as reports
from web.strategy import bp as strategy
from web.teams import bp as team
from web.users import bp as users

ALL = (auth, home, agent, agent_calls, campaigns, callbacks, callerid, settings, strategy, team, lists, listadmin,
       leads, planner, floor, compliance, reports, users)

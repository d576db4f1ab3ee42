"""Which pages a visitor sees, by role (authorisation itself is in the service layer)."""
from __future__ import annotations

import streamlit as st

from planning.auth import Actor
from ui.context import tr


def pages_for(actor: Actor) -> dict[str, list]:
    """The navigation sections for ``actor``: residents' pages for all, staff pages by role."""
    residents = [st.Page("ui/map_page.py", title=tr("nav.map"), icon=":material/map:", url_path="map", default=True)]
    residents.append(st.Page("ui/budget_page.py", title=tr("nav.budget"), icon=":material/savings:", url_path="budget"))
    residents.append(st.Page("ui/public_meetings_page.py", title=tr("nav.public_meetings"), icon=":material/event:", url_path="meetings-calendar"))
    if actor.id is not None:
        residents.append(st.Page("ui/mine_page.py", title=tr("nav.my_proposals"), icon=":material/edit_note:", url_path="mine"))
        residents.append(st.Page("ui/account_page.py", title=tr("nav.account"), icon=":material/person:", url_path="account"))
    else:
        residents.append(st.Page("ui/account_page.py", title=tr("nav.signin"), icon=":material/login:", url_path="account"))
    staff = []
    if actor.role in ("planner", "admin"):
        staff.append(st.Page("ui/review_page.py", title=tr("nav.review"), icon=":material/search:", url_path="review"))
        staff.append(st.Page("ui/budget_review_page.py", title=tr("nav.budget_review"), icon=":material/fact_check:", url_path="budget-review"))
    if actor.role in ("centre_staff", "admin"):
        staff.append(st.Page("ui/meetings_page.py", title=tr("nav.meetings"), icon=":material/groups:", url_path="meetings"))
        staff.append(st.Page("ui/presentation_page.py", title=tr("nav.presentation"), icon=":material/slideshow:", url_path="present"))
        staff.append(st.Page("ui/assemblies_page.py", title=tr("nav.assemblies"), icon=":material/how_to_vote:", url_path="assemblies"))
    if actor.role == "admin":
        staff.append(st.Page("ui/admin_page.py", title=tr("nav.admin"), icon=":material/settings:", url_path="admin"))
        staff.append(st.Page("ui/budget_admin_page.py", title=tr("nav.budget_admin"), icon=":material/account_balance:", url_path="budget-admin"))
    sections = {tr("nav.group.residents"): residents}
    if staff:
        sections[tr("nav.group.staff")] = staff
    return sections

"""The interface's one message catalogue: Korean (default) and English.

Pages call ``t(key, lang, **values)``; every key has both languages (a test
checks). Refusals carry their own two messages (see ``geo.errors.Refusal``).
"""
from __future__ import annotations

LANGS = ("ko", "en")
DEFAULT_LANG = "ko"

CATALOGUE: dict[str, tuple[str, str]] = {
    # app and navigation
    "app.title": ("고양시 주민참여 지도", "Goyang community planning map"),
    "app.tagline": (
        "우리 동네 계획과 주민참여예산 제안을 지도에 그리고 함께 이야기해요.",
        "Draw proposals for your neighbourhood plan and participatory budget on the map, and discuss them together.",
    ),
    "app.language": ("언어", "Language"),
    "nav.map": ("주민 지도", "Residents' map"),
    "nav.my_proposals": ("내 제안", "My proposals"),
    "nav.signin": ("로그인", "Sign in"),
    "nav.account": ("내 계정", "My account"),
    "nav.review": ("검토 (도시계획가)", "Review (planners)"),
    "nav.meetings": ("회의 (주민센터)", "Meetings (centres)"),
    "nav.admin": ("관리", "Administration"),
    "nav.group.residents": ("주민", "Residents"),
    "nav.group.staff": ("업무", "Staff"),
    "placeholder.later": (
        "이 화면은 다음 단계에서 제공됩니다 ({issue}).",
        "This page comes in a later step ({issue}).",
    ),
    # sign-in
    "signin.title": ("로그인", "Sign in"),
    "signin.username": ("아이디", "Username"),
    "signin.password": ("비밀번호", "Password"),
    "signin.submit": ("로그인", "Sign in"),
    "signin.oidc": ("{provider}(으)로 로그인", "Sign in with {provider}"),
    "signin.signed_in_as": ("{name} 님으로 로그인됨 ({role})", "Signed in as {name} ({role})"),
    "signin.signout": ("로그아웃", "Sign out"),
    "signin.required": (
        "제안·댓글·공감은 로그인한 주민만 할 수 있습니다. 지도 보기는 로그인 없이 가능합니다.",
        "Submitting, commenting and supporting need an account. Anyone may browse the map.",
    ),
    "signin.demo_hint": (
        "데모 계정: demo-resident / goyang-demo-2026 (시연용)",
        "Demo account: demo-resident / goyang-demo-2026 (for demonstration)",
    ),
    "register.title": ("계정 만들기", "Create an account"),
    "register.display_name": ("표시 이름", "Display name"),
    "register.home_dong": ("거주 동", "Home dong"),
    "register.password_again": ("비밀번호 확인", "Repeat password"),
    "register.submit": ("계정 만들기", "Create account"),
    "register.mismatch": ("두 비밀번호가 다릅니다.", "The two passwords differ."),
    "register.done": ("계정을 만들었습니다. 환영합니다!", "Your account was created. Welcome!"),
    # roles
    "role.resident": ("주민", "resident"),
    "role.planner": ("도시계획가", "planner"),
    "role.centre_staff": ("주민센터 직원", "centre staff"),
    "role.admin": ("관리자", "admin"),
    # map
    "map.search": ("동 이름 또는 행정코드로 찾기", "Find a dong by name or administrative code"),
    "map.search.none": ("'{query}'에 맞는 동이 없습니다.", "No dong matches '{query}'."),
    "map.layers": ("지도 레이어", "Map layers"),
    "map.approximate": (
        "행정동(예산 배정 지역) 경계는 근사 경계입니다 (공식 경계 파일을 가져오기 전).",
        "Administrative dong (budget district) boundaries are approximate until an official boundary file is imported.",
    ),
    "map.draw_hint": (
        "지도 왼쪽의 도구로 점, 선 또는 다각형을 그리세요. 원과 사각형은 다각형으로 바뀝니다.",
        "Use the tools on the left of the map to draw a point, a line or a polygon. Circles and rectangles become polygons.",
    ),
    "map.in_view": ("지금 보이는 지역의 제안: {n}건. 제안을 누르면 자세한 내용이 열립니다.", "Proposals in view: {n}. Click one to open it."),
    "layer.city": ("고양시 경계", "City outline"),
    "layer.gu": ("구", "Gu"),
    "layer.legal_dongs": ("법정동", "Legal dongs"),
    "layer.districts": ("행정동 (예산 배정 지역)", "Administrative dongs (budget districts)"),
    "layer.villages": ("마을", "Villages"),
    "layer.centres": ("주민센터", "Community centres"),
    "layer.hubs": ("거점 동 복합주민센터", "Hub community centres"),
    "layer.proposals": ("제안", "Proposals"),
    # placement and form
    "place.title": ("이 제안의 위치", "Where this proposal belongs"),
    "place.hub": ("거점 주민센터: {name} ({distance})", "Hub centre: {name} ({distance})"),
    "place.district": ("예산 배정 지역: {name}", "Budget district: {name}"),
    "place.legal_dong": ("법정동: {name}", "Legal dong: {name}"),
    "place.shares": ("걸친 지역: {shares}", "Districts touched: {shares}"),
    "place.quota": ("이 지역 예산 잔액: {left} / {total}", "Left in this district's quota: {left} of {total}"),
    "place.quota_unset": ("이 지역의 예산 배정액은 아직 정해지지 않았습니다.", "This district's quota is not set yet."),
    "form.title": ("제목", "Title"),
    "form.body": ("설명", "Description"),
    "form.category": ("분야", "Category"),
    "form.kind": ("제안 유형", "Kind of proposal"),
    "form.kind.area": ("지역 제안 (마을·동 모임)", "Area proposal (village or dong group)"),
    "form.kind.individual": ("개인 제안", "Individual proposal"),
    "form.cost": ("예상 비용 (원, 선택)", "Estimated cost (KRW, optional)"),
    "form.photo": ("사진 링크 (선택)", "Photo link (optional)"),
    "form.submit": ("제안 제출", "Submit proposal"),
    "form.submitted": ("제안 #{id}을(를) 제출했습니다.", "Proposal #{id} was submitted."),
    "form.draw_first": ("먼저 지도에 제안 위치를 그려 주세요.", "Please draw the proposal's location on the map first."),
    # card
    "card.cost": ("예상 비용", "Estimated cost"),
    "card.supports": ("공감 {n}", "{n} supports"),
    "card.comments": ("댓글 {n}", "{n} comments"),
    "card.support": ("공감하기", "Support"),
    "card.unsupport": ("공감 취소", "Take back support"),
    "card.comment": ("댓글 달기", "Add a comment"),
    "card.reply": ("답글", "Reply"),
    "card.status": ("상태: {status}", "Status: {status}"),
    "card.demo": ("데모 데이터", "Demo data"),
    "status.submitted": ("접수", "submitted"),
    "status.withdrawn": ("철회", "withdrawn"),
    "status.under_review": ("검토 중", "under review"),
    "status.field_verified": ("현장 확인", "field-verified"),
    "status.shortlisted": ("회의 상정", "shortlisted"),
    "status.adopted": ("채택", "adopted"),
    "status.rejected": ("미채택", "rejected"),
    "status.merged": ("병합", "merged"),
    # my proposals
    "mine.title": ("내 제안", "My proposals"),
    "mine.none": ("아직 제출한 제안이 없습니다.", "You have not submitted a proposal yet."),
    "mine.edit": ("수정", "Edit"),
    "mine.withdraw": ("철회", "Withdraw"),
    "mine.withdrawn": ("제안을 철회했습니다.", "The proposal was withdrawn."),
    "mine.saved": ("저장했습니다.", "Saved."),
    "mine.only_submitted": (
        "접수 상태의 제안만 수정하거나 철회할 수 있습니다.",
        "Only proposals still in 'submitted' can be edited or withdrawn.",
    ),
    # administration
    "admin.only": ("관리자만 볼 수 있는 화면입니다.", "Only admins can see this page."),
    "admin.hubs": ("거점 지정", "Hub designation"),
    "admin.hubs.help": (
        "거점 동 복합주민센터로 지정할 주민센터를 고르세요. 제안의 거점 연결이 곧바로 바뀝니다.",
        "Choose which community centres are hubs. Proposals are linked to the new hubs at once.",
    ),
    "admin.code": ("행정코드", "Code"),
    "admin.centre": ("주민센터", "Centre"),
    "admin.save": ("저장", "Save"),
    "admin.saved": ("{n}건을 바꿨습니다.", "{n} changes saved."),
    "admin.suggest": ("거점 배치 제안", "Suggested hub designation"),
    "admin.suggest.help": (
        "주민센터 k곳을 거점으로 할 때, 유권자 가중 평균 거리가 가장 짧은 배치를 계산합니다 (p-median, 직선거리).",
        "Computes the k hubs that minimise the voter-weighted average straight-line distance (p-median).",
    ),
    "admin.suggest.k": ("거점 수 k", "Number of hubs k"),
    "admin.suggest.run": ("제안 계산", "Compute suggestion"),
    "admin.suggest.current": ("현재 지정", "Current designation"),
    "admin.suggest.suggested": ("제안", "Suggestion"),
    "admin.suggest.mean": ("유권자 가중 평균 거리", "Voter-weighted mean distance"),
    "admin.suggest.worst": ("가장 먼 동까지 거리", "Worst distance"),
    "admin.suggest.adopt": ("제안대로 지정", "Adopt the suggestion"),
    "admin.villages": ("마을", "Villages"),
    "admin.villages.draw": ("지도에 마을 경계 그리기", "Draw a village boundary on the map"),
    "admin.villages.name": ("마을 이름", "Village name"),
    "admin.villages.add": ("마을 추가", "Add village"),
    "admin.villages.added": ("마을 #{id}을(를) 추가했습니다.", "Village #{id} was added."),
    "admin.villages.import": ("파일에서 마을 가져오기", "Import villages from a file"),
    "admin.villages.file": ("GeoJSON, GeoPackage 또는 압축한 Shapefile", "GeoJSON, GeoPackage or zipped Shapefile"),
    "admin.villages.name_column": ("이름 열", "Name column"),
    "admin.villages.delete": ("마을 삭제", "Delete village"),
}


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of ``key`` in ``lang`` with ``{placeholders}`` filled.

    An unknown key raises ``KeyError``: a missing translation is a bug the
    tests should catch, not a blank label.
    """
    ko, en = CATALOGUE[key]
    text = en if lang == "en" else ko
    return text.format(**values) if values else text

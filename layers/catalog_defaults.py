"""The catalog entries of the sector models. `sync_default_layers` creates the missing ones after every
migrate (post_migrate), so every database, including the test database, has the full catalog; it never
overwrites an entry an administrator has edited."""

from __future__ import annotations

from typing import Any

PUB = "public"
STAFF = "staff"


def attr(name: str, vi: str, en: str, kind: str = "string", visibility: str = PUB, roles: list[str] | None = None,
         ) -> dict[str, Any]:
    """One whitelisted attribute of a layer."""
    return {"name": name, "title_vi": vi, "title_en": en, "type": kind, "visibility": visibility,
            "roles": roles or []}


COMMUNE = attr("commune_code", "Mã xã", "Commune code")

DEFAULT_LAYERS: list[dict[str, Any]] = [
    {
        "slug": "communes", "title_vi": "Ranh giới xã, thị trấn", "title_en": "Commune boundaries",
        "description_vi": "Ranh giới hành chính cấp xã đang có hiệu lực.",
        "description_en": "Current commune-level administrative boundaries.",
        "source_model": "gis_ioc.AdminUnit", "source_filter": {"level": "commune", "valid_to__isnull": True},
        "geometry_type": "MultiPolygon", "visibility": PUB, "sort_order": 10, "min_zoom": 6,
        "id_field": "id", "search_fields": ["name", "name_ascii", "code"],
        "style": {"kind": "single", "color": "#1f78b4", "fill_opacity": 0.05},
        "attributes": [attr("code", "Mã GSO", "GSO code"), attr("name", "Tên", "Name"),
                       attr("unit_type", "Loại", "Type"), attr("area_km2", "Diện tích (km²)", "Area (km²)", "number")],
    },
    {
        "slug": "schools", "title_vi": "Trường học", "title_en": "Schools",
        "description_vi": "Trường mầm non, tiểu học, THCS, THPT trên địa bàn huyện.",
        "description_en": "Kindergartens, primary, lower and upper secondary schools.",
        "source_model": "layers.School", "geometry_type": "Point", "visibility": PUB, "sort_order": 20,
        "search_fields": ["name"], "edit_roles": ["gis_staff"],
        "style": {"kind": "categories", "field": "level", "colors": {
            "mam_non": "#e69f00", "tieu_hoc": "#56b4e9", "thcs": "#009e73", "thpt": "#0072b2", "lien_cap": "#cc79a7"}},
        "attributes": [attr("name", "Tên trường", "Name"), attr("level", "Cấp học", "Level"),
                       attr("ownership", "Loại hình", "Ownership"), attr("pupils", "Số học sinh", "Pupils", "integer"),
                       attr("teachers", "Số giáo viên", "Teachers", "integer"),
                       attr("classrooms", "Số phòng học", "Classrooms", "integer"),
                       attr("figures_year", "Năm số liệu", "Year of figures", "integer"), COMMUNE],
    },
    {
        "slug": "health-facilities", "title_vi": "Cơ sở y tế", "title_en": "Health facilities",
        "description_vi": "Trạm y tế, phòng khám, trung tâm y tế, bệnh viện, nhà thuốc.",
        "description_en": "Commune health stations, clinics, hospitals and pharmacies.",
        "source_model": "layers.HealthFacility", "geometry_type": "Point", "visibility": PUB, "sort_order": 30,
        "search_fields": ["name"], "edit_roles": ["gis_staff"],
        "style": {"kind": "categories", "field": "facility_type", "colors": {
            "tram_y_te": "#d55e00", "pkdk_khu_vuc": "#e69f00", "ttyt_huyen": "#cc79a7", "benh_vien": "#0072b2",
            "nha_thuoc": "#009e73"}},
        "attributes": [attr("name", "Tên cơ sở", "Name"), attr("facility_type", "Loại cơ sở", "Type"),
                       attr("beds", "Số giường", "Beds", "integer"), attr("doctors", "Số bác sĩ", "Doctors", "integer"),
                       attr("staff", "Số nhân viên", "Staff", "integer"), COMMUNE],
    },
    {
        "slug": "household-businesses", "title_vi": "Hộ kinh doanh", "title_en": "Household businesses",
        "description_vi": "Hộ kinh doanh đã đăng ký; thông tin chủ hộ chỉ cán bộ có thẩm quyền được xem.",
        "description_en": "Registered household businesses; owners' personal data for authorised staff only.",
        "source_model": "layers.HouseholdBusiness", "geometry_type": "Point", "visibility": STAFF,
        "sort_order": 40, "search_fields": ["name", "registration_number"], "edit_roles": ["gis_staff", "agency_staff"],
        "temporal_field": "registration_date", "min_zoom": 11,
        "style": {"kind": "categories", "field": "status", "colors": {
            "active": "#009e73", "suspended": "#e69f00", "closed": "#999999"}},
        "attributes": [attr("name", "Tên hộ kinh doanh", "Name"), attr("business_line", "Ngành nghề", "Business line"),
                       attr("registration_number", "Số đăng ký", "Registration number"),
                       attr("registration_date", "Ngày đăng ký", "Registration date", "date"),
                       attr("status", "Trạng thái", "Status"),
                       attr("monthly_tax", "Thuế khoán tháng (VND)", "Monthly tax (VND)", "number"),
                       attr("owner_name", "Chủ hộ", "Owner", visibility="roles",
                            roles=["agency_staff", "leader"]),
                       attr("owner_id_number", "Số CCCD chủ hộ", "Owner ID number", visibility="roles",
                            roles=["agency_staff"]),
                       attr("owner_phone", "Điện thoại chủ hộ", "Owner phone", visibility="roles",
                            roles=["agency_staff"]),
                       attr("address", "Địa chỉ", "Address", visibility=STAFF), COMMUNE],
    },
    {
        "slug": "land-parcels", "title_vi": "Thửa đất", "title_en": "Land parcels",
        "description_vi": "Bản đồ địa chính: thửa đất theo tờ bản đồ, mục đích sử dụng và tình trạng GCN.",
        "description_en": "Cadastral parcels by map sheet, land use and certificate status.",
        "source_model": "layers.LandParcel", "geometry_type": "MultiPolygon", "visibility": STAFF,
        "sort_order": 50, "min_zoom": 13, "search_fields": ["commune_code"], "edit_roles": ["gis_staff"],
        "style": {"kind": "categories", "field": "land_use", "palette": "landuse"},
        "attributes": [COMMUNE, attr("sheet_number", "Tờ bản đồ số", "Map sheet", "integer"),
                       attr("parcel_number", "Thửa số", "Parcel number", "integer"),
                       attr("area_m2", "Diện tích (m²)", "Area (m²)", "number"),
                       attr("land_use", "Mục đích sử dụng", "Land use"),
                       attr("certificate_status", "Tình trạng GCN", "Certificate status")],
    },
    {
        "slug": "planning-plans", "title_vi": "Đồ án quy hoạch", "title_en": "Planning plans",
        "source_model": "layers.PlanningPlan", "geometry_type": "", "visibility": PUB, "sort_order": 55,
        "geometry_field": "", "edit_roles": ["planner"],
        "attributes": [attr("name", "Tên quy hoạch", "Name"), attr("level", "Cấp quy hoạch", "Level"),
                       attr("period_start", "Từ năm", "From", "integer"), attr("period_end", "Đến năm", "To", "integer"),
                       attr("status", "Trạng thái", "Status"),
                       attr("approval_decision", "Quyết định phê duyệt", "Approval decision")],
    },
    {
        "slug": "planning-zones", "title_vi": "Khu quy hoạch", "title_en": "Planning zones",
        "description_vi": "Các khu chức năng của mọi đồ án quy hoạch (công khai theo luật).",
        "description_en": "Zones of every planning plan (public by law).",
        "source_model": "layers.PlanningZone", "geometry_type": "MultiPolygon", "visibility": PUB,
        "sort_order": 60, "min_zoom": 10, "search_fields": ["zone_code"], "edit_roles": ["planner"],
        "style": {"kind": "categories", "field": "land_use", "palette": "landuse", "fill_opacity": 0.5},
        "attributes": [attr("plan_id", "Mã đồ án", "Plan id", "integer"), attr("zone_code", "Mã khu", "Zone code"),
                       attr("land_use", "Chức năng", "Planned land use"),
                       attr("max_density", "Mật độ XD tối đa (%)", "Max density (%)", "number"),
                       attr("max_height", "Chiều cao tối đa (m)", "Max height (m)", "number"), COMMUNE],
    },
    {
        "slug": "petitions", "title_vi": "Phản ánh kiến nghị", "title_en": "Citizen petitions",
        "description_vi": "Phản ánh, kiến nghị của người dân; thông tin cá nhân không công khai.",
        "description_en": "Citizens' petitions; personal data is never public.",
        "source_model": "petitions.Petition", "geometry_type": "Point", "visibility": PUB, "sort_order": 70,
        "temporal_field": "received_at", "search_fields": ["tracking_code", "description"],
        "edit_roles": ["agency_staff"],
        "style": {"kind": "categories", "field": "status", "colors": {
            "received": "#e69f00", "verified": "#56b4e9", "assigned": "#0072b2", "in_progress": "#cc79a7",
            "resolved": "#009e73", "closed": "#999999", "rejected": "#444444", "duplicate": "#777777"}},
        "attributes": [attr("tracking_code", "Mã tra cứu", "Tracking code"), attr("category", "Lĩnh vực", "Category"),
                       attr("status", "Trạng thái", "Status"),
                       attr("received_at", "Ngày tiếp nhận", "Received", "datetime"),
                       attr("resolved_at", "Ngày giải quyết", "Resolved", "datetime"),
                       attr("description", "Nội dung", "Description", visibility=STAFF),
                       attr("reporter_name", "Người phản ánh", "Reporter", visibility="roles",
                            roles=["agency_staff", "leader"]),
                       attr("reporter_phone", "Điện thoại", "Phone", visibility="roles",
                            roles=["agency_staff", "leader"]), COMMUNE],
    },
    {
        "slug": "dossiers", "title_vi": "Hồ sơ thủ tục hành chính", "title_en": "Administrative dossiers",
        "source_model": "layers.Dossier", "geometry_field": "commune__geom", "geometry_type": "MultiPolygon",
        "visibility": STAFF, "sort_order": 80, "temporal_field": "received_date",
        "search_fields": ["procedure_code", "procedure_name"], "edit_roles": ["agency_staff"],
        "attributes": [attr("procedure_code", "Mã thủ tục", "Procedure code"),
                       attr("procedure_name", "Tên thủ tục", "Procedure"), attr("field", "Lĩnh vực", "Field"),
                       attr("received_date", "Ngày tiếp nhận", "Received", "date"),
                       attr("due_date", "Ngày hẹn trả", "Due", "date"),
                       attr("resolved_date", "Ngày trả kết quả", "Resolved", "date"),
                       attr("status", "Trạng thái", "Status"), COMMUNE],
    },
    {
        "slug": "budget-revenue", "title_vi": "Thu ngân sách", "title_en": "Budget revenue",
        "source_model": "layers.BudgetRevenue", "geometry_field": "commune__geom", "geometry_type": "MultiPolygon",
        "visibility": "roles", "allowed_roles": ["leader", "agency_staff"], "sort_order": 90,
        "temporal_field": "month", "edit_roles": ["agency_staff"],
        "attributes": [COMMUNE, attr("month", "Tháng", "Month", "date"), attr("source", "Nguồn thu", "Source"),
                       attr("planned", "Dự toán (VND)", "Planned (VND)", "number"),
                       attr("actual", "Thực thu (VND)", "Actual (VND)", "number")],
    },
    {
        "slug": "indicators", "title_vi": "Chỉ tiêu kinh tế – xã hội", "title_en": "Socio-economic indicators",
        "source_model": "layers.Indicator", "geometry_field": "commune__geom", "geometry_type": "MultiPolygon",
        "visibility": PUB, "sort_order": 100, "edit_roles": ["gis_staff"],
        "attributes": [COMMUNE, attr("code", "Chỉ tiêu", "Indicator"), attr("year", "Năm", "Year", "integer"),
                       attr("value", "Giá trị", "Value", "number"), attr("unit", "Đơn vị", "Unit")],
    },
]


def sync_default_layers(**_kwargs: Any) -> int:
    """Create the catalog entries that are missing; returns how many were created."""
    from layers.models import Layer

    created = 0
    for spec in DEFAULT_LAYERS:
        _layer, was_created = Layer.objects.get_or_create(slug=spec["slug"], defaults=spec)
        created += int(was_created)
    return created

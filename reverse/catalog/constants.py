"""Channels, location kinds, product categories and prefectures."""

import enum

from flask_babel import lazy_gettext as _l


class ChannelCode(enum.StrEnum):
    WEB = "web"
    STORE = "store"
    DEPARTMENT_STORE = "department_store"
    MARKETPLACE = "marketplace"
    OTHER = "other"


class WindowStart(enum.StrEnum):
    DELIVERY = "delivery"
    PURCHASE = "purchase"


class LocationKind(enum.StrEnum):
    STORE = "store"
    DEPARTMENT_STORE_COUNTER = "department_store_counter"
    RETURNS_CENTRE = "returns_centre"
    REPAIR_CENTRE = "repair_centre"


class Category(enum.StrEnum):
    TOPS = "tops"
    BOTTOMS = "bottoms"
    OUTERWEAR = "outerwear"
    DRESSES = "dresses"
    KNITWEAR = "knitwear"
    SHOES = "shoes"
    BAGS = "bags"
    ACCESSORIES = "accessories"
    HOME = "home"


CHANNEL_LABELS = {
    ChannelCode.WEB: _l("Web shop"),
    ChannelCode.STORE: _l("Our stores"),
    ChannelCode.DEPARTMENT_STORE: _l("Department store"),
    ChannelCode.MARKETPLACE: _l("Marketplace"),
    ChannelCode.OTHER: _l("Other"),
}

LOCATION_KIND_LABELS = {
    LocationKind.STORE: _l("Store"),
    LocationKind.DEPARTMENT_STORE_COUNTER: _l("Department store counter"),
    LocationKind.RETURNS_CENTRE: _l("Returns centre"),
    LocationKind.REPAIR_CENTRE: _l("Repair centre"),
}

CATEGORY_LABELS = {
    Category.TOPS: _l("Tops"),
    Category.BOTTOMS: _l("Bottoms"),
    Category.OUTERWEAR: _l("Outerwear"),
    Category.DRESSES: _l("Dresses"),
    Category.KNITWEAR: _l("Knitwear"),
    Category.SHOES: _l("Shoes"),
    Category.BAGS: _l("Bags"),
    Category.ACCESSORIES: _l("Accessories"),
    Category.HOME: _l("Home"),
}

PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)

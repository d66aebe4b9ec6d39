"""The demo data set: channels, locations, catalogue, customers, orders, RMAs and staff logins.

Everything is derived from one seeded `random.Random`, so a given seed gives the same shop each
time; the functions here only add and flush, and the `flask demo load` command commits once.
"""

from __future__ import annotations

import bisect
import io
import math
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.auth.operations import create_user
from reverse.catalog.constants import Category, ChannelCode, LocationKind, WindowStart
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.core.actors import Actor
from reverse.core.codes import jan_check_digit, new_rma_number
from reverse.core.db import utcnow
from reverse.core.normalise import InvalidInput
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.repairs.constants import Handback, PriceItemKind, QuoteState, RepairKind
from reverse.repairs.models import (
    PriceListItem,
    RepairOrder,
    RepairQuote,
    RepairQuoteLine,
    RepairWorkEntry,
)
from reverse.rmas.constants import (
    INITIAL_STATUSES,
    TERMINAL_STATUSES,
    AttachmentKind,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
    moves_for,
    statuses_for,
)
from reverse.rmas.models import Attachment, EventKind, Rma, RmaEvent, RmaLine
from reverse.rmas.policies import staff_actor
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount
from reverse.shipping.operations import add_range

DEMO_PASSWORD = "reverse-demo-2026"  # noqa: S105 - published on purpose: the demo's own logins
DEFAULT_SEED = 2026
#: the location whose presence means the demo data set is already loaded
MARKER_LOCATION = "RC-CHIBA"

JST = timezone(timedelta(hours=9), "JST")
#: how far back orders go
HISTORY_DAYS = 545
S = RmaStatus


# --- channels and locations --------------------------------------------------------------------

_CHANNELS = (
    # code, name_ja, name_en, window days, window starts, allowed types, proof required
    (
        ChannelCode.WEB,
        "公式オンラインストア",
        "Online store",
        30,
        WindowStart.DELIVERY,
        ["return", "exchange", "repair"],
        False,
    ),
    (
        ChannelCode.STORE,
        "直営店",
        "Our stores",
        30,
        WindowStart.PURCHASE,
        ["return", "exchange", "repair"],
        False,
    ),
    (
        ChannelCode.DEPARTMENT_STORE,
        "百貨店",
        "Department stores",
        14,
        WindowStart.PURCHASE,
        ["exchange", "repair"],
        True,
    ),
    (
        ChannelCode.MARKETPLACE,
        "モール・マーケットプレイス",
        "Marketplaces",
        14,
        WindowStart.DELIVERY,
        ["return"],
        False,
    ),
    (
        ChannelCode.OTHER,
        "その他（ギフト・取扱店）",
        "Other (gifts, stockists)",
        0,
        WindowStart.PURCHASE,
        ["exchange", "repair"],
        True,
    ),
)

_LOCATIONS = (
    # code, kind, name_ja, name_en, retailer, 〒, prefecture, city, street, building, phone
    (
        "RC-CHIBA",
        LocationKind.RETURNS_CENTRE,
        "Reverse 市川返品センター",
        "Reverse Ichikawa Returns Centre",
        "",
        "272-0002",
        "千葉県",
        "市川市",
        "二俣新町17-2",
        "市川ロジスティクスセンター 3F",
        "047-328-1150",
    ),
    (
        "REPAIR-SAITAMA",
        LocationKind.REPAIR_CENTRE,
        "Reverse さいたまリペアセンター",
        "Reverse Saitama Repair Centre",
        "",
        "331-0812",
        "埼玉県",
        "さいたま市北区",
        "宮原町2-51-8",
        "宮原テクノビル 2F",
        "048-653-2210",
    ),
    (
        "ST-SHIBUYA",
        LocationKind.STORE,
        "Reverse 渋谷店",
        "Reverse Shibuya",
        "",
        "150-0041",
        "東京都",
        "渋谷区",
        "神南1-14-5",
        "神南スクエア 1F",
        "03-5456-1234",
    ),
    (
        "ST-UMEDA",
        LocationKind.STORE,
        "Reverse 梅田店",
        "Reverse Umeda",
        "",
        "530-0013",
        "大阪府",
        "大阪市北区",
        "茶屋町12-6",
        "茶屋町ガーデン 1F",
        "06-6312-4410",
    ),
    (
        "ST-SAKAE",
        LocationKind.STORE,
        "Reverse 栄店",
        "Reverse Sakae",
        "",
        "460-0008",
        "愛知県",
        "名古屋市中区",
        "栄3-5-12",
        "栄センタービル 1F",
        "052-261-0300",
    ),
    (
        "DS-ISETAN-SHINJUKU",
        LocationKind.DEPARTMENT_STORE_COUNTER,
        "Reverse 伊勢丹新宿店",
        "Reverse Isetan Shinjuku",
        "伊勢丹新宿店",
        "160-0022",
        "東京都",
        "新宿区",
        "新宿3-14-1",
        "本館3階",
        "03-3352-4120",
    ),
    (
        "DS-TAKASHIMAYA-NIHONBASHI",
        LocationKind.DEPARTMENT_STORE_COUNTER,
        "Reverse 髙島屋日本橋店",
        "Reverse Takashimaya Nihombashi",
        "髙島屋日本橋店",
        "103-8265",
        "東京都",
        "中央区",
        "日本橋2-4-1",
        "本館4階",
        "03-3211-4137",
    ),
    (
        "DS-HANKYU-UMEDA",
        LocationKind.DEPARTMENT_STORE_COUNTER,
        "Reverse 阪急うめだ本店",
        "Reverse Hankyu Umeda",
        "阪急うめだ本店",
        "530-8350",
        "大阪府",
        "大阪市北区",
        "角田町8-7",
        "7階",
        "06-6361-4720",
    ),
    (
        "DS-DAIMARU-KYOTO",
        LocationKind.DEPARTMENT_STORE_COUNTER,
        "Reverse 大丸京都店",
        "Reverse Daimaru Kyoto",
        "大丸京都店",
        "600-8511",
        "京都府",
        "京都市下京区",
        "四条通高倉西入立売西町79",
        "5階",
        "075-211-4570",
    ),
)

STORE_CODES = ("ST-SHIBUYA", "ST-UMEDA", "ST-SAKAE")
COUNTER_CODES = (
    "DS-ISETAN-SHINJUKU",
    "DS-TAKASHIMAYA-NIHONBASHI",
    "DS-HANKYU-UMEDA",
    "DS-DAIMARU-KYOTO",
)

# email, name, role, location code
_STAFF = (
    ("admin@example.jp", "管理 花子", Role.ADMIN, None),
    ("support@example.jp", "サポート 太郎", Role.SUPPORT, None),
    ("warehouse@example.jp", "倉庫 次郎", Role.WAREHOUSE, "RC-CHIBA"),
    ("store@example.jp", "店舗 三郎", Role.STORE, "ST-SHIBUYA"),
    ("technician@example.jp", "修理 四郎", Role.TECHNICIAN, "REPAIR-SAITAMA"),
    ("store-umeda@example.jp", "梅田 五郎", Role.STORE, "ST-UMEDA"),
)


# --- catalogue ---------------------------------------------------------------------------------

_COLOURS = {
    "ECR": ("生成り", "Ecru"),
    "WHT": ("白", "White"),
    "NVY": ("ネイビー", "Navy"),
    "BLK": ("黒", "Black"),
    "CHC": ("チャコール", "Charcoal"),
    "OLV": ("オリーブ", "Olive"),
    "BEG": ("ベージュ", "Beige"),
    "GRY": ("グレー", "Grey"),
    "KHK": ("カーキ", "Khaki"),
    "BRN": ("ブラウン", "Brown"),
    "IND": ("インディゴ", "Indigo"),
    "CML": ("キャメル", "Camel"),
    "SAX": ("サックス", "Sax blue"),
    "TER": ("テラコッタ", "Terracotta"),
}
_BASIC = ("ECR", "WHT", "NVY", "BLK", "CHC", "OLV", "BEG", "GRY", "SAX")
_DARK = ("NVY", "BLK", "CHC", "OLV", "BEG", "GRY", "KHK", "BRN", "CML")
_LEATHER = ("BLK", "BRN", "CML", "NVY")
_HOME = ("WHT", "ECR", "GRY", "IND", "TER")

APPAREL_SIZES = ("S", "M", "L", "XL")
SHOE_SIZES = tuple(f"{n / 2:.1f}" for n in range(46, 55))  # 23.0 … 27.0
ONE_SIZE = ("F",)


@dataclass(frozen=True)
class _Range:
    """A product range: every material may be combined with every item of the range."""

    materials: tuple[tuple[str, str], ...]
    items: tuple[tuple[str, str], ...]
    colours: tuple[str, ...]
    repairable: bool = False
    returnable: bool = True


@dataclass(frozen=True)
class _CategorySpec:
    category: Category
    code: str
    count: int
    sizes: tuple[str, ...]
    #: tax-included price range, yen
    prices: tuple[int, int]
    ranges: tuple[_Range, ...]


def _pairs(*texts: str) -> tuple[tuple[str, str], ...]:
    """("リネン=Linen", …) → (("リネン", "Linen"), …): Japanese and English side by side."""
    pairs = []
    for text in texts:
        ja, en = text.split("=")
        pairs.append((ja, en))
    return tuple(pairs)


_CATEGORIES = (
    _CategorySpec(
        Category.TOPS,
        "TO",
        36,
        APPAREL_SIZES,
        (3_900, 12_900),
        (
            _Range(
                _pairs(
                    "リネン=Linen",
                    "コットン=Cotton",
                    "オックスフォード=Oxford",
                    "ブロード=Broadcloth",
                    "ダブルガーゼ=Double Gauze",
                ),
                _pairs(
                    "オーバーサイズシャツ=Oversized Shirt",
                    "バンドカラーシャツ=Band-Collar Shirt",
                    "レギュラーカラーシャツ=Regular-Collar Shirt",
                    "ブラウス=Blouse",
                ),
                _BASIC,
            ),
            _Range(
                _pairs(
                    "コットン=Cotton",
                    "オーガニックコットン=Organic Cotton",
                    "天竺=Jersey",
                    "鹿の子=Piqué",
                ),
                _pairs(
                    "クルーネックTシャツ=Crew-Neck T-Shirt",
                    "ロングスリーブTシャツ=Long-Sleeve T-Shirt",
                    "ボーダーカットソー=Striped Top",
                    "ポロシャツ=Polo Shirt",
                    "スウェットシャツ=Sweatshirt",
                ),
                _BASIC,
            ),
        ),
    ),
    _CategorySpec(
        Category.BOTTOMS,
        "BO",
        28,
        APPAREL_SIZES,
        (5_900, 16_900),
        (
            _Range(
                _pairs(
                    "コットン=Cotton",
                    "リネン=Linen",
                    "ウール=Wool",
                    "デニム=Denim",
                    "コーデュロイ=Corduroy",
                    "チノ=Chino",
                ),
                _pairs(
                    "ワイドパンツ=Wide Trousers",
                    "テーパードパンツ=Tapered Trousers",
                    "イージーパンツ=Drawstring Trousers",
                    "ストレートパンツ=Straight Trousers",
                    "フレアスカート=Flared Skirt",
                    "ギャザースカート=Gathered Skirt",
                ),
                (*_DARK, "IND"),
            ),
        ),
    ),
    _CategorySpec(
        Category.OUTERWEAR,
        "OU",
        24,
        APPAREL_SIZES,
        (19_800, 59_800),
        (
            _Range(
                _pairs(
                    "ウール=Wool",
                    "ウールカシミヤ=Wool-Cashmere",
                    "ツイード=Tweed",
                    "コットン=Cotton",
                ),
                _pairs(
                    "テーラードジャケット=Tailored Jacket",
                    "チェスターコート=Chesterfield Coat",
                    "ステンカラーコート=Balmacaan Coat",
                    "ノーカラーコート=Collarless Coat",
                ),
                _DARK,
                repairable=True,
            ),
            _Range(
                _pairs("コットン=Cotton", "ナイロン=Nylon", "デニム=Denim"),
                _pairs(
                    "カバーオール=Chore Jacket",
                    "マウンテンパーカー=Mountain Parka",
                    "ブルゾン=Blouson",
                    "コーチジャケット=Coach Jacket",
                ),
                _DARK,
                repairable=True,
            ),
        ),
    ),
    _CategorySpec(
        Category.DRESSES,
        "DR",
        18,
        APPAREL_SIZES,
        (9_900, 29_900),
        (
            _Range(
                _pairs("リネン=Linen", "コットン=Cotton", "レーヨン=Rayon", "ウール=Wool"),
                _pairs(
                    "シャツワンピース=Shirt Dress",
                    "ギャザーワンピース=Gathered Dress",
                    "ノースリーブワンピース=Sleeveless Dress",
                    "ジャンパースカート=Pinafore Dress",
                    "ロングワンピース=Maxi Dress",
                ),
                _BASIC,
            ),
        ),
    ),
    _CategorySpec(
        Category.KNITWEAR,
        "KN",
        22,
        APPAREL_SIZES,
        (7_900, 26_400),
        (
            _Range(
                _pairs(
                    "ウール=Wool",
                    "メリノウール=Merino Wool",
                    "カシミヤ=Cashmere",
                    "コットン=Cotton",
                    "モヘア=Mohair",
                    "ラムウール=Lambswool",
                ),
                _pairs(
                    "クルーネックニット=Crew-Neck Sweater",
                    "Vネックニット=V-Neck Sweater",
                    "カーディガン=Cardigan",
                    "タートルネックニット=Turtleneck Sweater",
                ),
                _DARK,
            ),
        ),
    ),
    _CategorySpec(
        Category.SHOES,
        "SH",
        20,
        SHOE_SIZES,
        (8_900, 35_200),
        (
            _Range(
                _pairs("レザー=Leather", "スエード=Suede"),
                _pairs(
                    "ローファー=Loafers",
                    "ダービーシューズ=Derby Shoes",
                    "サイドゴアブーツ=Chelsea Boots",
                    "サンダル=Sandals",
                    "バレエシューズ=Ballet Flats",
                ),
                _LEATHER,
                repairable=True,
            ),
            _Range(
                _pairs(
                    "キャンバス=Canvas",
                    "ナイロン=Nylon",
                    "スムースレザー=Smooth Leather",
                    "ヌバック=Nubuck",
                ),
                _pairs(
                    "スニーカー=Sneakers",
                    "ハイカットスニーカー=High-Top Sneakers",
                    "スリッポン=Slip-Ons",
                ),
                ("WHT", "BLK", "NVY", "ECR"),
                repairable=True,
            ),
        ),
    ),
    _CategorySpec(
        Category.BAGS,
        "BA",
        22,
        ONE_SIZE,
        (9_900, 39_600),
        (
            _Range(
                _pairs("レザー=Leather", "キャンバス=Canvas", "ナイロン=Nylon", "スエード=Suede"),
                _pairs(
                    "トートバッグ=Tote Bag",
                    "ショルダーバッグ=Shoulder Bag",
                    "リュックサック=Backpack",
                    "ボストンバッグ=Boston Bag",
                    "サコッシュ=Sacoche",
                    "ミニバッグ=Mini Bag",
                ),
                (*_LEATHER, "ECR", "OLV"),
                repairable=True,
            ),
        ),
    ),
    _CategorySpec(
        Category.ACCESSORIES,
        "AC",
        18,
        ONE_SIZE,
        (2_200, 19_800),
        (
            _Range(
                _pairs("レザー=Leather", "ヌバック=Nubuck"),
                _pairs(
                    "ベルト=Belt",
                    "二つ折り財布=Bifold Wallet",
                    "キーケース=Key Case",
                    "カードケース=Card Case",
                ),
                _LEATHER,
                repairable=True,
            ),
            _Range(
                _pairs("ウール=Wool", "カシミヤ=Cashmere", "リネン=Linen", "コットン=Cotton"),
                _pairs("マフラー=Scarf", "ストール=Stole", "キャップ=Cap"),
                _DARK,
            ),
            # Socks are never taken back once sold: hygiene.
            _Range(
                _pairs("コットン=Cotton", "ウール=Wool"),
                _pairs("ソックス=Socks"),
                _BASIC,
                returnable=False,
            ),
        ),
    ),
    _CategorySpec(
        Category.HOME,
        "HO",
        12,
        ONE_SIZE,
        (1_100, 8_800),
        (
            _Range(
                _pairs("陶器=Stoneware", "磁器=Porcelain", "ガラス=Glass"),
                _pairs("マグカップ=Mug", "プレート=Plate", "ボウル=Bowl"),
                _HOME,
            ),
            _Range(
                _pairs("リネン=Linen", "コットン=Cotton"),
                _pairs(
                    "キッチンクロス=Tea Towel", "クッションカバー=Cushion Cover", "エプロン=Apron"
                ),
                _HOME,
            ),
        ),
    ),
)


#: JAN company prefixes (GS1 Japan hands out 45… and 49…): apparel and goods, home ware
_JAN_PREFIX_APPAREL = "4573210"
_JAN_PREFIX_HOME = "4989123"


# --- people ------------------------------------------------------------------------------------


def _rows(text: str) -> tuple[tuple[str, ...], ...]:
    """A table written as "kanji:kana:romaji" words, several to a line."""
    return tuple(tuple(word.split(":")) for word in text.split())


_SURNAMES = _rows("""
    佐藤:サトウ:sato  鈴木:スズキ:suzuki  高橋:タカハシ:takahashi  田中:タナカ:tanaka
    伊藤:イトウ:ito  渡辺:ワタナベ:watanabe  山本:ヤマモト:yamamoto  中村:ナカムラ:nakamura
    小林:コバヤシ:kobayashi  加藤:カトウ:kato  吉田:ヨシダ:yoshida  山田:ヤマダ:yamada
    佐々木:ササキ:sasaki  山口:ヤマグチ:yamaguchi  松本:マツモト:matsumoto  井上:イノウエ:inoue
    木村:キムラ:kimura  林:ハヤシ:hayashi  斎藤:サイトウ:saito  清水:シミズ:shimizu
    山崎:ヤマザキ:yamazaki  森:モリ:mori  池田:イケダ:ikeda  橋本:ハシモト:hashimoto
    阿部:アベ:abe  石川:イシカワ:ishikawa  山下:ヤマシタ:yamashita  中島:ナカジマ:nakajima
    石井:イシイ:ishii  小川:オガワ:ogawa  前田:マエダ:maeda  岡田:オカダ:okada
    長谷川:ハセガワ:hasegawa  藤田:フジタ:fujita  後藤:ゴトウ:goto  近藤:コンドウ:kondo
    村上:ムラカミ:murakami  遠藤:エンドウ:endo  青木:アオキ:aoki  坂本:サカモト:sakamoto
""")
_GIVEN_NAMES = _rows("""
    陽菜:ヒナ:hina  結衣:ユイ:yui  美咲:ミサキ:misaki  さくら:サクラ:sakura  葵:アオイ:aoi
    凛:リン:rin  花子:ハナコ:hanako  恵子:ケイコ:keiko  由美:ユミ:yumi  麻衣:マイ:mai
    彩:アヤ:aya  真由美:マユミ:mayumi  千尋:チヒロ:chihiro  愛:アイ:ai  優子:ユウコ:yuko
    直美:ナオミ:naomi  智子:トモコ:tomoko  明日香:アスカ:asuka  奈々:ナナ:nana  琴音:コトネ:kotone
    翔太:ショウタ:shota  大輔:ダイスケ:daisuke  拓也:タクヤ:takuya  健太:ケンタ:kenta  蓮:レン:ren
    悠真:ユウマ:yuma  陽翔:ハルト:haruto  大樹:ダイキ:daiki  誠:マコト:makoto  浩:ヒロシ:hiroshi
    隆:タカシ:takashi  健一:ケンイチ:kenichi  直樹:ナオキ:naoki  亮:リョウ:ryo  和也:カズヤ:kazuya
    雄一:ユウイチ:yuichi  湊:ミナト:minato  樹:イツキ:itsuki  颯太:ソウタ:sota  修:オサム:osamu
""")
# Customers living in Japan who read English: names as they write them, with the kana reading.
_FOREIGN_NAMES = _rows("""
    Emily:エミリー:Clark:クラーク  James:ジェームズ:Wilson:ウィルソン
    Sophie:ソフィー:Martin:マーティン  Daniel:ダニエル:Lee:リー
    Olivia:オリビア:Brown:ブラウン  Liam:リアム:Chen:チェン
    Mia:ミア:Park:パク  Noah:ノア:Taylor:テイラー
    Chloe:クロエ:Dubois:デュボワ  Lucas:ルーカス:Silva:シルバ
""")
_EMAIL_DOMAINS = ("example.jp", "example.ne.jp", "example.com")
_EMAIL_DOMAIN_WEIGHTS = (45, 30, 25)


# --- RMA content -------------------------------------------------------------------------------

_REASON_COMMENTS = {
    "size_too_small": (
        "肩まわりがきつかったです。",
        "普段Mですが小さめでした。",
        "丈が短く感じました。",
        "",
    ),
    "size_too_large": (
        "身幅が大きすぎました。",
        "袖が長すぎます。",
        "ワンサイズ下を試したいです。",
        "",
    ),
    "not_as_pictured": (
        "写真より色が暗く見えました。",
        "生地が思ったより薄かったです。",
        "イメージと違いました。",
    ),
    "changed_mind": (
        "似た物を持っていたため。",
        "気が変わりました。",
        "贈り物でしたが不要になりました。",
        "",
    ),
    "defective": (
        "縫い目にほつれがありました。",
        "ボタンが一つ取れていました。",
        "小さな汚れが付いていました。",
    ),
    "damaged_in_transit": ("箱が潰れて商品に折れ跡がありました。", "配送中に濡れたようです。"),
}
# Size complaints sound different about shoes, and about things that come in one size.
_SIZE_COMMENTS = {
    Category.SHOES: {
        "size_too_small": ("つま先が当たって痛いです。", "幅がきつかったです。", ""),
        "size_too_large": ("かかとが浮いてしまいます。", "半サイズ下を試したいです。", ""),
    },
    "one_size": {
        "size_too_small": ("思ったより小さかったです。", "サイズ感が合いませんでした。", ""),
        "size_too_large": ("思ったより大きかったです。", ""),
    },
}
_RETURN_REASONS = (
    ("size_too_small", 20),
    ("size_too_large", 20),
    ("not_as_pictured", 18),
    ("changed_mind", 22),
    ("defective", 10),
    ("damaged_in_transit", 5),
)
_SYMPTOMS = {
    Category.BAGS: (
        "持ち手の付け根がほつれている",
        "ファスナーが閉まらない",
        "底の角が擦り切れている",
        "ショルダーストラップの金具が壊れた",
        "内ポケットの縫い目が裂けた",
    ),
    Category.SHOES: (
        "ソールの剥がれ",
        "かかとがすり減った",
        "つま先のステッチがほつれている",
        "インソールが破れた",
    ),
    Category.OUTERWEAR: (
        "ファスナーが閉まらない",
        "ボタンが取れた",
        "裏地が破れている",
        "袖口が擦り切れている",
        "ポケットの縫い目がほつれている",
    ),
    Category.ACCESSORIES: (
        "バックルが外れる",
        "縫い目がほつれている",
        "スナップボタンが留まらない",
        "革にひび割れがある",
    ),
}
_DIAGNOSES = (
    "縫製部分の摩耗。補強縫いで対応可能。",
    "部品の破損。同等品への交換が必要。",
    "接着の劣化。張り替えで対応可能。",
    "使用による自然な摩耗。",
)
_REJECT_NOTES = {
    RmaType.RETURN: (
        "返品期限を過ぎているため、お受けできません。",
        "ご使用の形跡があるため返品対象外です。",
    ),
    RmaType.EXCHANGE: (
        "ご希望のサイズが完売のため、交換をお受けできません。",
        "ご使用の形跡があるため交換対象外です。",
    ),
    RmaType.REPAIR: (
        "この素材・加工は修理の対象外です。",
        "写真から判断して修理が難しい状態です。",
    ),
}
_STAFF_NOTES = (
    "お客様へ電話で状況をご説明済み。",
    "箱なしでの返送希望あり。",
    "お急ぎのご希望あり。",
    "住所変更のご連絡あり（同一市内）。",
)
_OTHER_RETAILERS = ("頂き物（ギフト）", "取扱セレクトショップ", "旧ポップアップストア")

# How many RMAs end in each status (every status of each type at least once).
_RMA_PLAN: dict[RmaType, dict[RmaStatus, int]] = {
    RmaType.RETURN: {
        S.SUBMITTED: 12,
        S.APPROVED: 6,
        S.REJECTED: 4,
        S.AWAITING_ITEM: 14,
        S.IN_TRANSIT: 10,
        S.RECEIVED: 8,
        S.INSPECTED: 6,
        S.RESOLVED: 10,
        S.CLOSED: 52,
        S.CANCELLED: 8,
        S.EXPIRED: 5,
    },
    RmaType.EXCHANGE: {
        S.SUBMITTED: 6,
        S.APPROVED: 3,
        S.REJECTED: 2,
        S.AWAITING_ITEM: 7,
        S.IN_TRANSIT: 5,
        S.RECEIVED: 4,
        S.INSPECTED: 3,
        S.RESOLVED: 5,
        S.CLOSED: 27,
        S.CANCELLED: 4,
        S.EXPIRED: 3,
    },
    RmaType.REPAIR: {
        S.SUBMITTED: 5,
        S.ACCEPTED: 8,
        S.REJECTED: 2,
        S.AWAITING_ITEM: 4,
        S.IN_TRANSIT: 6,
        S.AT_REPAIR_CENTRE: 5,
        S.DIAGNOSED: 5,
        S.QUOTED: 7,
        S.QUOTE_APPROVED: 4,
        S.QUOTE_DECLINED: 3,
        S.IN_REPAIR: 7,
        S.QUALITY_CHECK: 4,
        S.RETURNING: 3,
        S.READY: 8,
        S.HANDED_BACK: 5,
        S.CLOSED: 18,
        S.CANCELLED: 3,
        S.EXPIRED: 2,
    },
}

# Hours each step takes, by the status it leads to: drawn uniformly between the two.
_STEP_HOURS: dict[RmaStatus, tuple[float, float]] = {
    S.APPROVED: (0.2, 30),
    S.REJECTED: (2, 48),
    S.AWAITING_ITEM: (0.05, 4),
    S.IN_TRANSIT: (6, 96),
    S.RECEIVED: (18, 72),
    S.INSPECTED: (4, 48),
    S.RESOLVED: (1, 48),
    S.CLOSED: (24, 240),
    S.CANCELLED: (1, 120),
    S.EXPIRED: (336, 360),
    S.AT_REPAIR_CENTRE: (24, 72),
    S.DIAGNOSED: (24, 120),
    S.QUOTED: (2, 48),
    S.QUOTE_APPROVED: (12, 168),
    S.QUOTE_DECLINED: (12, 240),
    S.IN_REPAIR: (12, 72),
    S.QUALITY_CHECK: (48, 240),
    S.RETURNING: (24, 72),
    S.READY: (4, 48),
    S.HANDED_BACK: (24, 240),
}

# Relative odds of a move when a walk has a choice; unlisted moves weigh 1. Detours (rework,
# re-quotes) and unhappy branches are rarer than the main line.
_MOVE_WEIGHTS: dict[tuple[RmaStatus, RmaStatus], float] = {
    (S.SUBMITTED, S.REJECTED): 0.15,
    (S.AWAITING_ITEM, S.RECEIVED): 0.25,
    (S.ACCEPTED, S.AT_REPAIR_CENTRE): 0.3,
    # web repairs brought to a counter are the counters' business, not the demo walk's
    (S.AWAITING_ITEM, S.ACCEPTED): 0.0,
    (S.AWAITING_ITEM, S.AT_REPAIR_CENTRE): 0.3,
    (S.DIAGNOSED, S.IN_REPAIR): 0.35,
    (S.DIAGNOSED, S.READY): 0.1,
    (S.QUOTED, S.QUOTE_DECLINED): 0.2,
    (S.IN_REPAIR, S.QUOTED): 0.05,
    (S.QUALITY_CHECK, S.IN_REPAIR): 0.1,
}

#: return / exchange statuses in which a store drop-off is still the store's business
_BEFORE_SHIPPING = frozenset(
    {S.SUBMITTED, S.APPROVED, S.REJECTED, S.AWAITING_ITEM, S.CANCELLED, S.EXPIRED}
)


@dataclass
class DemoSummary:
    counts: dict[str, int]
    logins: list[tuple[str, str, str]] = field(default_factory=list)


# --- entry points ------------------------------------------------------------------------------


def demo_loaded() -> bool:
    marker = sa.select(Location.id).where(Location.code == MARKER_LOCATION)
    return db.session.scalar(marker) is not None


def load_demo(seed: int = DEFAULT_SEED) -> DemoSummary:
    """Add the whole demo data set to the session and flush; the caller commits."""
    rng = random.Random(seed)
    # History ends at the last midnight in Japan, not at this instant: every draw then depends on
    # the seed alone, so one seed gives the same data set whenever it is loaded (shifted by whole
    # days), and stores still open at shop hours in Japanese time.
    end = utcnow().astimezone(JST).replace(hour=0, minute=0, second=0, microsecond=0)
    end = end.astimezone(UTC)
    channels = create_channels()
    locations = create_locations()
    users = create_staff(locations)
    products = build_products(rng, end)
    customers = build_customers(rng)
    orders = build_orders(rng, end, channels, locations, products, customers)
    rmas = _RmaBuilder(rng, end, channels, locations, users, products, customers, orders).build()
    _date_customers(rng, end, customers, orders, rmas)
    # Later additions draw from generators of their own, so the data above stays what the
    # seed always gave.
    _complete_rmas(rmas)
    rmas += build_verification_queue(
        random.Random(f"{seed}-queue"), channels, locations, products, customers
    )
    stock = build_stock(random.Random(f"{seed}-stock"), products, locations)
    create_return_terms()
    create_policy_rules()
    create_carrier_accounts(locations)

    # Bulk adds in dependency order; each flush is a few executemany batches, not a row each.
    for group in (products, customers, orders, rmas, stock):
        db.session.add_all(group)
        db.session.flush()
    build_inspections(random.Random(f"{seed}-inspections"), rmas, locations, users)
    build_repairs(random.Random(f"{seed}-repairs"), rmas, locations)
    build_resale(random.Random(f"{seed}-resale"), end, locations, customers)
    return DemoSummary(
        counts=_counts(),
        logins=[
            (u.email, u.role.value, u.location.code if u.location else "") for u in users.values()
        ],
    )


#: (location code, carrier, customer code, first and last 11-digit body of the issued range)
DEMO_CARRIER_ACCOUNTS = (
    ("RC-CHIBA", Carrier.YAMATO, "047100001001", "40012000000", "40012099999"),
    ("RC-CHIBA", Carrier.SAGAWA, "360012345", "31004000000", "31004049999"),
    ("REPAIR-SAITAMA", Carrier.YAMATO, "048200002001", "40013000000", "40013099999"),
    ("ST-SHIBUYA", Carrier.YAMATO, "033300003001", "40014000000", "40014009999"),
    ("ST-UMEDA", Carrier.JAPAN_POST, "0640001", "52001000000", "52001009999"),
    ("ST-SAKAE", Carrier.SAGAWA, "520034567", "31005000000", "31005009999"),
)


def create_carrier_accounts(locations: dict[str, Location]) -> None:
    """Carrier contracts with the number ranges the carriers issued (made-up ranges)."""
    for code, carrier, customer_code, first, last in DEMO_CARRIER_ACCOUNTS:
        account = CarrierAccount(
            location=locations[code],
            carrier=carrier,
            customer_code=customer_code,
            name=f"{locations[code].name_ja} {carrier.value}",
        )
        db.session.add(account)
        db.session.flush()
        add_range(account, first, last)


def create_channels() -> dict[ChannelCode, Channel]:
    channels = {
        code: Channel(
            code=code,
            name_ja=ja,
            name_en=en,
            return_window_days=days,
            window_starts=starts,
            allowed_types=list(types),
            proof_required=proof,
        )
        for code, ja, en, days, starts, types, proof in _CHANNELS
    }
    db.session.add_all(channels.values())
    db.session.flush()
    return channels


def create_locations() -> dict[str, Location]:
    locations = {
        code: Location(
            code=code,
            kind=kind,
            name_ja=ja,
            name_en=en,
            retailer=retailer,
            postal_code=postal,
            prefecture=pref,
            city=city,
            street=street,
            building=building,
            phone=phone,
        )
        for code, kind, ja, en, retailer, postal, pref, city, street, building, phone in _LOCATIONS
    }
    db.session.add_all(locations.values())
    db.session.flush()
    return locations


def create_staff(locations: dict[str, Location]) -> dict[str, User]:
    """One login per role (and a second store), all with DEMO_PASSWORD, keyed by email."""
    return {
        email: create_user(email, name, DEMO_PASSWORD, role, locations[code] if code else None)
        for email, name, role, code in _STAFF
    }


# --- catalogue ---------------------------------------------------------------------------------


def _price(rng: random.Random, low: int, high: int) -> int:
    """A tax-included price as Japanese shops set them: ¥…900, ¥…800, or a round net price + 10%."""
    candidates = {
        p
        for k in range(1, high // 1000 + 2)
        for p in (k * 1000 - 100, k * 1000 - 200, k * 1100)
        if low <= p <= high
    }
    return rng.choice(sorted(candidates))


def build_products(rng: random.Random, end: datetime) -> list[Product]:
    launched = end - timedelta(days=HISTORY_DAYS + 30)
    products: list[Product] = []
    jan_counter = Counter[str]()
    for spec in _CATEGORIES:
        combos = [(r, m, i) for r in spec.ranges for m in r.materials for i in r.items]
        for number, (rng_range, material, item) in enumerate(
            rng.sample(combos, spec.count), start=1
        ):
            style = f"RV-{spec.code}-{number:04d}"
            product = Product(
                style_code=style,
                name_ja=f"{material[0]} {item[0]}",
                name_en=f"{material[1]} {item[1]}",
                category=spec.category,
                returnable=rng_range.returnable and rng.random() > 0.03,
                repairable=rng_range.repairable,
                created_at=launched,
                updated_at=launched,
            )
            price = _price(rng, *spec.prices)
            colours = rng.sample(rng_range.colours, rng.choices((1, 2, 3), (3, 4, 3))[0])
            prefix = _JAN_PREFIX_HOME if spec.category == Category.HOME else _JAN_PREFIX_APPAREL
            for colour in colours:
                for size in spec.sizes:
                    jan_counter[prefix] += 1
                    body = f"{prefix}{jan_counter[prefix]:05d}"
                    product.variants.append(
                        Variant(
                            sku=f"{style}-{colour}-{size}",
                            jan=f"{body}{jan_check_digit(body)}",
                            size=size,
                            colour_ja=_COLOURS[colour][0],
                            colour_en=_COLOURS[colour][1],
                            price_yen=price,
                            created_at=launched,
                            updated_at=launched,
                        )
                    )
            products.append(product)
    return products


# --- customers ---------------------------------------------------------------------------------


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = f"+81{rng.choice('987')}0{rng.randrange(10**8):08d}"
        try:
            number = normalise_phone(candidate)
        except InvalidInput:
            continue  # a range the numbering plan does not hand out
        if number not in taken:
            taken.add(number)
            return number


def _email(rng: random.Random, given: str, surname: str, taken: set[str]) -> str:
    pattern = rng.randrange(5)
    local = (
        f"{given}.{surname}",
        f"{surname}.{given}",
        f"{given[0]}{surname}",
        f"{surname}{given}{rng.randrange(60, 100)}",
        f"{given}_{surname[:4]}{rng.randrange(100)}",
    )[pattern]
    domain = rng.choices(_EMAIL_DOMAINS, _EMAIL_DOMAIN_WEIGHTS)[0]
    address = normalise_email(f"{local}@{domain}")
    suffix = 1
    while address in taken:
        suffix += 1
        address = normalise_email(f"{local}{suffix}@{domain}")
    taken.add(address)
    return address


def build_customers(rng: random.Random, count: int = 600) -> list[Customer]:
    emails: set[str] = set()
    phones: set[str] = set()
    customers = []
    # About one in ten customers reads English.
    english_ones = set(rng.sample(range(count), count // 10))
    for n in range(count):
        english = n in english_ones
        if english and rng.random() < 0.6:
            given, given_kana, surname, surname_kana = rng.choice(_FOREIGN_NAMES)
            name, kana = f"{given} {surname}", f"{given_kana} {surname_kana}"
            roman = (given.lower(), surname.lower())
        else:
            surname, surname_kana, surname_roman = rng.choice(_SURNAMES)
            given, given_kana, given_roman = rng.choice(_GIVEN_NAMES)
            name, kana = f"{surname} {given}", f"{surname_kana} {given_kana}"
            roman = (given_roman, surname_roman)
        reach = rng.random()
        customers.append(
            Customer(
                email=_email(rng, *roman, emails) if reach < 0.88 else None,
                phone=_mobile(rng, phones) if reach >= 0.30 else None,
                name=name,
                name_kana=kana,
                locale="en" if english else "ja",
            )
        )
    return customers


# --- orders ------------------------------------------------------------------------------------


def _days_ago(rng: random.Random) -> float:
    """Days back into the history, a little denser towards today (the business grows)."""
    if rng.random() < 0.6:
        return rng.uniform(0, HISTORY_DAYS)
    return rng.triangular(0, HISTORY_DAYS, 0)


def _shop_time(rng: random.Random, end: datetime, days: float, hours: tuple[int, int]) -> datetime:
    """A moment on the Japanese calendar day `days` before `end` (a JST midnight), at shop hours."""
    day = (end - timedelta(days=math.floor(days) + 1)).astimezone(JST)
    moment = day.replace(
        hour=rng.randrange(*hours),
        minute=rng.randrange(60),
        second=rng.randrange(60),
        microsecond=0,
    )
    return moment.astimezone(UTC)


def build_orders(
    rng: random.Random,
    end: datetime,
    channels: dict[ChannelCode, Channel],
    locations: dict[str, Location],
    products: list[Product],
    customers: list[Customer],
    count: int = 2000,
) -> list[Order]:
    # A few loyal customers buy often, most buy once or twice.
    weights = [rng.paretovariate(1.3) for _ in customers]
    online = [(c, w) for c, w in zip(customers, weights, strict=True) if c.email]
    online_customers, online_weights = zip(*online, strict=True)
    stores = [locations[code] for code in STORE_CODES]
    counters = [locations[code] for code in COUNTER_CODES]

    drafts = []
    for _ in range(count):
        code = rng.choices(
            (
                ChannelCode.WEB,
                ChannelCode.STORE,
                ChannelCode.MARKETPLACE,
                ChannelCode.DEPARTMENT_STORE,
            ),
            (62, 25, 11, 2),
        )[0]
        in_person = code in (ChannelCode.STORE, ChannelCode.DEPARTMENT_STORE)
        ordered_at = _shop_time(rng, end, _days_ago(rng), (10, 20) if in_person else (0, 24))
        drafts.append((ordered_at, code))
    drafts.sort(key=lambda d: d[0])

    # Numbers grow with time, as the channels' own systems issue them.
    serial = {ChannelCode.WEB: 30_118_000, ChannelCode.MARKETPLACE: 4_022_530_000}
    receipt: Counter[str] = Counter()
    orders = []
    for ordered_at, code in drafts:
        location = None
        delivered_at = None
        if code == ChannelCode.WEB:
            serial[code] += rng.randrange(1, 6)
            number = f"W{serial[code]:08d}"
        elif code == ChannelCode.MARKETPLACE:
            serial[code] += rng.randrange(1, 40)
            number = f"M{serial[code]}"
        else:
            location = (
                rng.choices(stores, (5, 3, 2))[0]
                if code == ChannelCode.STORE
                else (rng.choice(counters))
            )
            receipt[location.code] += rng.randrange(3, 30)
            prefix = "S" if code == ChannelCode.STORE else "D"
            number = f"{prefix}-{location.code}-{receipt[location.code]:06d}"
        if location is None:
            arrival = ordered_at + timedelta(
                days=rng.randint(1, 4), minutes=rng.randrange(-360, 360)
            )
            delivered_at = arrival if arrival < end else None
            customer = rng.choices(online_customers, online_weights)[0]
        else:
            # Members show their card at the till; others stay anonymous.
            customer = rng.choices(customers, weights)[0] if rng.random() < 0.65 else None
        order = Order(
            channel=channels[code],
            number=number,
            customer=customer,
            location=location,
            ordered_at=ordered_at,
            delivered_at=delivered_at,
            created_at=ordered_at,
            updated_at=delivered_at or ordered_at,
        )
        for product in rng.sample(products, rng.choices((1, 2, 3), (60, 28, 12))[0]):
            variant = rng.choice(product.variants)
            quantity = 2 if rng.random() < 0.08 else 1
            final_sale = rng.random() < 0.04
            discount = 0
            if final_sale or rng.random() < 0.15:
                percent = 20 if final_sale else rng.choice((5, 10, 15, 20))
                discount = variant.price_yen * quantity * percent // 100 // 10 * 10
            order.lines.append(
                OrderLine(
                    variant=variant,
                    quantity=quantity,
                    unit_price_yen=variant.price_yen,
                    discount_yen=discount,
                    final_sale=final_sale,
                )
            )
        orders.append(order)
    return orders


# --- RMAs --------------------------------------------------------------------------------------


def _reachable(rma_type: RmaType) -> dict[RmaStatus, frozenset[RmaStatus]]:
    """For every status, the statuses a case of this type can still get to (itself included)."""
    moves = moves_for(rma_type)
    reach = {}
    for start in statuses_for(rma_type):
        seen, todo = {start}, [start]
        while todo:
            for nxt in moves.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = frozenset(seen)
    return reach


_REACH = {t: _reachable(t) for t in RmaType}


def _shortest_path(rma_type: RmaType, start: RmaStatus, target: RmaStatus) -> list[RmaStatus]:
    moves = moves_for(rma_type)
    previous: dict[RmaStatus, RmaStatus | None] = {start: None}
    queue = [start]
    while queue and target not in previous:
        current = queue.pop(0)
        for nxt in (s for s in RmaStatus if s in moves.get(current, ())):
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    path: list[RmaStatus] = []
    step: RmaStatus | None = target
    while step is not None:
        path.append(step)
        step = previous[step]
    return path[::-1]


def walk(
    rng: random.Random, rma_type: RmaType, start: RmaStatus, target: RmaStatus
) -> list[RmaStatus]:
    """A legal, somewhat random lifecycle from `start` to `target` (both included)."""
    moves = moves_for(rma_type)
    reach = _REACH[rma_type]
    path = [start]
    visits = Counter({start: 1})
    while path[-1] != target:
        current = path[-1]
        # Iterate the enum, not the frozenset: set order changes with the hash seed.
        options = [
            s
            for s in RmaStatus
            if s in moves.get(current, ())
            and (s == target or (target in reach[s] and s not in TERMINAL_STATUSES))
            and visits[s] < 2
        ]
        if not options:
            return path[:-1] + _shortest_path(rma_type, current, target)
        step = rng.choices(options, [_MOVE_WEIGHTS.get((current, s), 1.0) for s in options])[0]
        path.append(step)
        visits[step] += 1
    return path


def _fit_handback(path: list[RmaStatus], counter: bool) -> list[RmaStatus]:
    """A repair goes home the way it came: a counter's item returns to its store before it is
    ready there, anything else is ready for delivery straight from the centre."""
    fitted: list[RmaStatus] = []
    for status in path:
        if status == S.RETURNING and not counter:
            continue
        if status == S.READY and counter and fitted and fitted[-1] != S.RETURNING:
            fitted.append(S.RETURNING)
        fitted.append(status)
    return fitted


@dataclass
class _Case:
    """What an RMA is about before it is built: the decisions that shape its timeline."""

    type: RmaType
    channel: ChannelCode
    source: RmaSource
    path: list[RmaStatus]
    times: list[datetime] = field(default_factory=list)
    location: Location | None = None


class _RmaBuilder:
    def __init__(
        self,
        rng: random.Random,
        end: datetime,
        channels: dict[ChannelCode, Channel],
        locations: dict[str, Location],
        users: dict[str, User],
        products: list[Product],
        customers: list[Customer],
        orders: list[Order],
    ) -> None:
        self.rng = rng
        self.end = end
        self.channels = channels
        self.locations = locations
        self.customers = customers
        self.stores = [locations[c] for c in STORE_CODES]
        self.counters = [locations[c] for c in COUNTER_CODES]
        self.support = staff_actor(users["support@example.jp"])
        self.warehouse = staff_actor(users["warehouse@example.jp"])
        self.technician = staff_actor(users["technician@example.jp"])
        self.store_staff = {
            u.location.code: staff_actor(u)
            for u in users.values()
            if u.role == Role.STORE and u.location
        }
        self.system = Actor.system("demo")
        self.returnable = [p for p in products if p.returnable]
        self.repairable = [p for p in products if p.repairable]
        #: order lines already in a case, by object identity (nothing has a primary key yet)
        self.used_lines: set[int] = set()
        self.numbers = set(db.session.scalars(sa.select(Rma.number)))
        # Orders by channel, sorted by the moment their return window opens.
        self.index: dict[ChannelCode, tuple[list[datetime], list[Order]]] = {}
        for code in (ChannelCode.WEB, ChannelCode.STORE, ChannelCode.MARKETPLACE):
            keyed = sorted(
                (
                    (o.delivered_at or o.ordered_at, n, o)
                    for n, o in enumerate(orders)
                    if o.channel.code == code
                    and o.customer is not None
                    and (o.location is not None or o.delivered_at is not None)
                ),
                key=lambda k: (k[0], k[1]),
            )
            self.index[code] = ([k[0] for k in keyed], [k[2] for k in keyed])

    # Which case, which timeline -----------------------------------------------------------------

    def build(self) -> list[Rma]:
        plan = [
            (t, s) for t, counts in _RMA_PLAN.items() for s, n in counts.items() for _ in range(n)
        ]
        self.rng.shuffle(plan)
        rmas = []
        for rma_type, target in plan:
            for _attempt in range(50):
                rma = self._try(rma_type, target)
                if rma is not None:
                    rmas.append(rma)
                    break
            else:
                raise RuntimeError(f"no demo purchase fits a {rma_type} ending {target}")
        return rmas

    def _try(self, rma_type: RmaType, target: RmaStatus) -> Rma | None:
        case = self._case(rma_type, target)
        case.times = self._times(case.path)
        if rma_type == RmaType.RETURN or (case.channel in (ChannelCode.WEB, ChannelCode.STORE)):
            return self._from_order(case)
        return self._from_declaration(case)

    def _case(self, rma_type: RmaType, target: RmaStatus) -> _Case:
        rng = self.rng
        if rma_type == RmaType.REPAIR:
            starts = [
                s
                for s in (S.ACCEPTED, S.SUBMITTED)
                if s in INITIAL_STATUSES[rma_type] and target in _REACH[rma_type][s]
            ]
            if target in (S.RETURNING, S.ACCEPTED):
                starts = [S.ACCEPTED]  # a counter's item: accepted there, returned there
            start = starts[0] if len(starts) == 1 else rng.choices(starts, (55, 45))[0]
            channel = rng.choices(
                (
                    ChannelCode.WEB,
                    ChannelCode.STORE,
                    ChannelCode.DEPARTMENT_STORE,
                    ChannelCode.OTHER,
                ),
                (30, 25, 30, 15),
            )[0]
            if start == S.ACCEPTED:
                source = RmaSource.STORE_COUNTER
            else:
                source = RmaSource.CALL_CENTRE if rng.random() < 0.15 else RmaSource.WEB
        else:
            start = S.SUBMITTED
            if rma_type == RmaType.RETURN:
                channel = rng.choices(
                    (ChannelCode.WEB, ChannelCode.MARKETPLACE, ChannelCode.STORE), (60, 22, 18)
                )[0]
            else:
                channel = rng.choices(
                    (ChannelCode.WEB, ChannelCode.STORE, ChannelCode.DEPARTMENT_STORE), (55, 25, 20)
                )[0]
            # Store purchases mostly come back to a store; department-store ones to the counter.
            at_counter = rng.random() < {
                ChannelCode.STORE: 0.8,
                ChannelCode.DEPARTMENT_STORE: 0.7,
            }.get(channel, 0)
            # An item handed over at a counter cannot expire waiting to be sent.
            if target == S.EXPIRED:
                at_counter = False
            if at_counter:
                source = RmaSource.STORE_COUNTER
            else:
                source = RmaSource.CALL_CENTRE if rng.random() < 0.15 else RmaSource.WEB
        path = walk(rng, rma_type, start, target)
        if rma_type == RmaType.REPAIR:
            path = _fit_handback(path, source == RmaSource.STORE_COUNTER)
        return _Case(rma_type, channel, source, path)

    def _times(self, path: list[RmaStatus]) -> list[datetime]:
        """Event times, counted back from how long the case has waited in its last status."""
        rng = self.rng
        if path[-1] in TERMINAL_STATUSES:
            age = timedelta(days=rng.uniform(1, 420))
        else:
            bucket = rng.choices(((0.02, 1.5), (2, 10), (10, 45)), (40, 30, 30))[0]
            age = timedelta(days=rng.uniform(*bucket))
        times = [self.end - age]
        for status in reversed(path[1:]):
            low, high = _STEP_HOURS[status]
            times.append(times[-1] - timedelta(hours=rng.uniform(low, high)))
        return times[::-1]

    # Purchases ----------------------------------------------------------------------------------

    def _from_order(self, case: _Case) -> Rma | None:
        rng = self.rng
        created = case.times[0]
        channel = self.channels[case.channel]
        keys, orders = self.index[case.channel]
        if case.type == RmaType.REPAIR:
            low, high = created - timedelta(days=HISTORY_DAYS), created - timedelta(days=14)
        else:
            low = created - timedelta(days=channel.return_window_days) + timedelta(hours=6)
            high = created - timedelta(hours=3)
        first, last = bisect.bisect_left(keys, low), bisect.bisect_right(keys, high)
        if first >= last:
            return None
        for _ in range(25):
            order = orders[rng.randrange(first, last)]
            lines = [
                line
                for line in order.lines
                if id(line) not in self.used_lines
                and self._fits(case.type, line.variant.product, line.final_sale)
            ]
            if lines:
                break
        else:
            return None
        picked = rng.sample(lines, 2 if len(lines) > 1 and rng.random() < 0.2 else 1)
        if case.type == RmaType.REPAIR:
            picked = picked[:1]
        assert order.customer is not None  # the index holds only orders with a customer
        rma = self._rma(case, order.customer, order=order)
        for line in picked:
            self.used_lines.add(id(line))
            rma.lines.append(self._line(case, line.variant, line, created - order.ordered_at))
        self._place(case, rma, order.location)
        self._play(case, rma)
        return rma

    def _fits(self, rma_type: RmaType, product: Product, final_sale: bool) -> bool:
        if rma_type == RmaType.REPAIR:
            return product.repairable
        return product.returnable and not final_sale

    def _from_declaration(self, case: _Case) -> Rma:
        """A purchase Reverse never saw: bought at a department store, a stockist, or a gift."""
        rng = self.rng
        created = case.times[0]
        counter = None
        if case.channel == ChannelCode.DEPARTMENT_STORE:
            counter = rng.choices(self.counters, (4, 3, 3, 2))[0]
            retailer = counter.retailer
        else:
            retailer = rng.choice(_OTHER_RETAILERS)
        if case.type == RmaType.REPAIR:
            product = rng.choice(self.repairable)
            bought = created - timedelta(days=rng.uniform(30, 720))
        else:
            product = rng.choice(self.returnable)
            bought = created - timedelta(days=rng.uniform(0.3, 12))
        variant = rng.choice(product.variants)
        price = variant.price_yen
        if rng.random() < 0.2:
            price = price * 9 // 10 // 100 * 100  # bought in the store's sale
        rma = self._rma(
            case,
            rng.choice(self.customers),
            declared_retailer=retailer,
            declared_purchase_date=bought.astimezone(JST).date(),
            declared_price_yen=price,
        )
        rma.lines.append(self._line(case, variant, None, created - bought))
        if case.source == RmaSource.STORE_COUNTER and counter is None:
            counter = self._walk_in_store()
        self._place(case, rma, counter)
        self._play(case, rma)
        return rma

    def _walk_in_store(self) -> Location:
        return self.rng.choices(self.stores + self.counters, (5, 4, 3, 2, 1, 1, 1))[0]

    def _rma(self, case: _Case, customer: Customer, **fields: object) -> Rma:
        number = new_rma_number()
        while number in self.numbers:
            number = new_rma_number()
        self.numbers.add(number)
        if case.source == RmaSource.STORE_COUNTER:
            method = ReturnMethod.COUNTER
        else:
            # Repairs go straight to the repair centre, never through a store's drop-off box.
            drop_off = 0 if case.type == RmaType.REPAIR else 15
            method = self.rng.choices(
                (
                    ReturnMethod.PREPAID_LABEL,
                    ReturnMethod.CARRIAGE_FORWARD,
                    ReturnMethod.PICKUP,
                    ReturnMethod.STORE_DROP_OFF,
                ),
                (45, 30, 10, drop_off),
            )[0]
        return Rma(
            number=number,
            access_token_hash=Rma.hash_token(secrets.token_urlsafe(32)),
            type=case.type,
            source=case.source,
            channel=self.channels[case.channel],
            customer=customer,
            return_method=method,
            **fields,
        )

    def _line(
        self, case: _Case, variant: Variant, order_line: OrderLine | None, owned: timedelta
    ) -> RmaLine:
        rng = self.rng
        line = RmaLine(
            variant=variant,
            order_line=order_line,
            quantity=order_line.quantity if order_line and rng.random() < 0.5 else 1,
        )
        if case.type == RmaType.REPAIR:
            # Faults in the first six months are treated as defects, later ones as wear.
            line.reason = "defective" if owned < timedelta(days=180) else "wear_and_tear"
            line.symptom = rng.choice(_SYMPTOMS[variant.product.category])
            return line
        if case.type == RmaType.EXCHANGE:
            line.reason, line.wanted_variant = self._exchange_wish(variant)
        else:
            reasons = [
                (r, w)
                for r, w in _RETURN_REASONS
                if not (r == "damaged_in_transit" and case.channel == ChannelCode.STORE)
                and not (r.startswith("size_") and variant.product.category == Category.HOME)
            ]
            line.reason = rng.choices([r for r, _ in reasons], [w for _, w in reasons])[0]
        line.comment = rng.choice(self._comments(line.reason, variant))
        return line

    def _comments(self, reason: str, variant: Variant) -> tuple[str, ...]:
        category = variant.product.category
        kind = category if category == Category.SHOES else "one_size" if variant.size == "F" else ""
        return _SIZE_COMMENTS.get(kind, {}).get(reason) or _REASON_COMMENTS[reason]

    def _exchange_wish(self, variant: Variant) -> tuple[str, Variant]:
        """Why the customer wants another variant, and which one."""
        same_colour = [v for v in variant.product.variants if v.colour_en == variant.colour_en]
        same_size = [
            v for v in variant.product.variants if v.size == variant.size and v is not variant
        ]
        at = same_colour.index(variant)
        wishes: list[tuple[str, Variant, float]] = [("defective", variant, 1.5)]
        if at + 1 < len(same_colour):
            wishes.append(("size_too_small", same_colour[at + 1], 3))
        if at > 0:
            wishes.append(("size_too_large", same_colour[at - 1], 3))
        if same_size:
            wishes.append(("not_as_pictured", self.rng.choice(same_size), 2.5))
        reason, wanted, _ = self.rng.choices(wishes, [w for *_, w in wishes])[0]
        return reason, wanted

    def _place(self, case: _Case, rma: Rma, site: Location | None) -> None:
        """Give the case the location responsible for it now (store staff see their store's)."""
        if case.source == RmaSource.STORE_COUNTER:
            rma.location = site if site is not None else self._walk_in_store()
        elif case.type == RmaType.REPAIR:
            rma.location = self.locations["REPAIR-SAITAMA"]
        elif rma.return_method == ReturnMethod.STORE_DROP_OFF and case.path[-1] in _BEFORE_SHIPPING:
            rma.location = self._walk_in_store()
        else:
            rma.location = self.locations["RC-CHIBA"]
        case.location = rma.location

    # The timeline -------------------------------------------------------------------------------

    def _store_actor(self, case: _Case) -> Actor:
        code = case.location.code if case.location else ""
        return self.store_staff.get(code, self.system)

    def _actor(self, case: _Case, target: RmaStatus, first: bool) -> Actor:
        rng = self.rng
        counter = case.source == RmaSource.STORE_COUNTER
        if first:
            if counter:
                return self._store_actor(case)
            return self.support if case.source == RmaSource.CALL_CENTRE else Actor.customer()
        if target in (S.CLOSED, S.EXPIRED):
            return self.system
        if target == S.CANCELLED:
            return self.support if rng.random() < 0.4 else Actor.customer()
        if target in (S.QUOTE_APPROVED, S.QUOTE_DECLINED):
            return Actor.customer()
        if case.type == RmaType.REPAIR:
            if target in (S.IN_TRANSIT, S.HANDED_BACK):
                return self._store_actor(case) if counter else self.system
            if target in (S.AWAITING_ITEM, S.REJECTED):
                return self.support
            return self.technician
        if target in (S.APPROVED, S.REJECTED, S.AWAITING_ITEM):
            if counter:
                return self._store_actor(case)
            if target == S.APPROVED:
                # Most requests inside the policy are approved automatically.
                return self.system if rng.random() < 0.7 else self.support
            return self.system if target == S.AWAITING_ITEM else self.support
        if target == S.IN_TRANSIT:
            return self._store_actor(case) if counter else self.system
        return self.warehouse

    def _note(self, case: _Case, rma: Rma, step: int) -> tuple[str, bool, dict[str, Any] | None]:
        """The note, its visibility and data the status change at `step` of the path carries."""
        rng = self.rng
        target, previous = case.path[step], case.path[step - 1]
        if target == S.REJECTED:
            return rng.choice(_REJECT_NOTES[case.type]), True, None
        if target == S.CANCELLED:
            return rng.choice(("お客様のご希望によりキャンセルしました。", "")), True, None
        if target == S.EXPIRED:
            return "返送期限（14日）を過ぎたため終了しました。", True, None
        if target == S.INSPECTED:
            grade = rng.choices("ABC", (6, 3, 1))[0]
            return f"検品結果: {grade}ランク", False, {"grade": grade}
        if target == S.RESOLVED:
            if case.type == RmaType.EXCHANGE:
                return "交換品を発送しました。", True, None
            refund = sum(
                line.order_line.paid_yen * line.quantity // line.order_line.quantity
                if line.order_line
                else (rma.declared_price_yen or 0)
                for line in rma.lines
            )
            return f"¥{refund:,} を返金しました。", True, {"refund_yen": refund}
        if target == S.DIAGNOSED:
            return rng.choice(_DIAGNOSES), True, None
        if target == S.QUOTED and previous == S.IN_REPAIR:
            return "分解後に追加の不具合が見つかったため再見積もりします。", True, None
        if target == S.QUOTED:
            quote = rng.choice((2_200, 3_300, 4_400, 5_500, 6_600, 8_800, 11_000, 13_200))
            return f"見積金額 ¥{quote:,}（税込）", True, {"quote_yen": quote}
        if target == S.QUOTE_DECLINED:
            return "今回は修理を見送ります。", True, None
        if target == S.IN_REPAIR and previous == S.QUALITY_CHECK:
            return "仕上がり確認で縫い目のずれがあり再作業。", False, None
        if target == S.READY and case.type == RmaType.REPAIR:
            if case.source == RmaSource.STORE_COUNTER:
                return "店舗でお受け取りいただけます。", True, None
            return "発送の準備ができました。", True, None
        return "", True, None

    def _play(self, case: _Case, rma: Rma) -> None:
        """Run the case through its path with the model's own methods, then date each event."""
        rng = self.rng
        memo_after = rng.randrange(len(case.path)) if rng.random() < 0.15 else None
        events: list[tuple[RmaEvent, datetime]] = []
        for step, (status, moment) in enumerate(zip(case.path, case.times, strict=True)):
            if step == 0:
                event = rma.start(status, self._actor(case, status, first=True))
            else:
                note, public, data = self._note(case, rma, step)
                moved = rma.transition(
                    status,
                    self._actor(case, status, first=False),
                    note=note,
                    public=public,
                    data=data,
                )
                assert moved is not None  # a walk never stays in place
                event = moved
            events.append((event, moment))
            if step == memo_after:
                later = case.times[step + 1] if step + 1 < len(case.times) else self.end
                memo = rma.add_note(self.support, rng.choice(_STAFF_NOTES))
                events.append((memo, moment + (later - moment) / 2))
        # The model stamps everything "now"; a demo needs the history it would have had.
        for event, moment in events:
            event.created_at = moment
        rma.created_at = case.times[0]
        rma.status_changed_at = case.times[-1]
        rma.updated_at = events[-1][1]


def _date_customers(
    rng: random.Random,
    end: datetime,
    customers: list[Customer],
    orders: list[Order],
    rmas: list[Rma],
) -> None:
    """A customer record exists from their first order or request (or some time back)."""
    first: dict[int, datetime] = {}
    for moment, customer in [(o.ordered_at, o.customer) for o in orders] + [
        (r.created_at, r.customer) for r in rmas
    ]:
        if customer is not None:
            key = id(customer)
            first[key] = min(first.get(key, moment), moment)
    for customer in customers:
        since = first.get(id(customer)) or end - timedelta(days=_days_ago(rng))
        since -= timedelta(minutes=rng.randrange(1, 30))
        customer.created_at = customer.updated_at = since


def _counts() -> dict[str, int]:
    models = (
        Channel,
        Location,
        Product,
        Variant,
        Customer,
        Order,
        OrderLine,
        Rma,
        RmaLine,
        RmaEvent,
        StockLevel,
        PolicyRule,
        CarrierAccount,
        User,
    )
    return {
        m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) or 0
        for m in models
    }


# --- stock, the return policy, and receipts waiting to be checked --------------------------------

#: where sellable stock is kept (department-store counters are stocked from the stores)
_STOCK_SITES = ("RC-CHIBA", *STORE_CODES)


def build_stock(
    rng: random.Random, products: list[Product], locations: dict[str, Location]
) -> list[StockLevel]:
    """Most variants on hand at the returns centre and the stores; the odd size sold out
    everywhere (what an exchange for it cannot be promised from)."""
    levels = []
    for product in products:
        for variant in product.variants:
            if rng.random() < 0.12:
                continue  # sold out everywhere
            for code in _STOCK_SITES:
                centre = code == "RC-CHIBA"
                on_hand = rng.choice((0, 2, 4, 6, 9, 12, 18)) if centre else rng.randrange(0, 5)
                reserved = min(on_hand, rng.choice((0, 0, 0, 1)))
                levels.append(
                    StockLevel(
                        variant=variant,
                        location=locations[code],
                        on_hand=on_hand,
                        reserved=reserved,
                    )
                )
    return levels


RETURN_TERMS_JA = """\
返品・交換・修理について（返品特約）

1. 公式オンラインストアでのご購入
・商品到着日から30日以内にお申し込みください。未着用・未洗濯で、タグが付いた状態の商品に限ります。
・セール品・アウトレット品は返品・交換をお受けできません（不良品を除きます）。
・靴は、商品到着日から14日以内のお申し込みに限ります。室内での試し履きのみの状態でお願いいたします。
・返品の送料990円（税込）は返金額から差し引きます。商品の不良・破損・誤配送の場合は当社が負担します。
・返金は、返品商品が返品センターに到着してから14日以内に、ご購入時のお支払い方法で行います。
・サイズ・カラーの交換は無料です（在庫がある場合に限ります）。

2. 直営店でのご購入
・お買い上げ日から30日以内に、レシートをお持ちのうえ店舗または本ページからお申し込みください。

3. 百貨店でのご購入
・交換・修理のみお受けします。レシートまたは保証書の写真をお送りください。確認後にお手続きを進めます。
・返品（返金）はお買い上げの百貨店の規定に従います。

4. 修理
・お買い上げから1年以内の製造上の不具合は無料で修理いたします。それ以外は、お見積もりをご承認いただいてから修理します。

5. 返品をお受けできない商品
・ご着用・洗濯後の商品、お客様の責任による汚れ・破損がある商品、肌着・靴下など衛生上の理由で返品不可と表示した商品。

本特約の定めがない事項は、特定商取引法その他の法令に従います。"""

RETURN_TERMS_EN = "\n".join(
    (
        "Returns, exchanges and repairs (our return terms)",
        "",
        "1. Bought from our online store",
        "- Please request a return within 30 days of delivery. Items must be unworn, "
        "unwashed and have their tags attached.",
        "- Sale and outlet items are final sale and cannot be returned or exchanged "
        "(unless defective).",
        "- Shoes: within 14 days of delivery, tried on indoors only.",
        "- A return shipping fee of ¥990 (tax included) is deducted from your refund. We "
        "pay the shipping when the item is defective, damaged or not what you ordered.",
        "- We refund to your original payment method within 14 days of receiving the item"
        " at our returns centre.",
        "- Exchanges for another size or colour are free (while stock lasts).",
        "",
        "2. Bought in our stores",
        "- Within 30 days of purchase, with your receipt, at any of our stores or on this site.",
        "",
        "3. Bought at a department store counter",
        "- We offer exchanges and repairs. Please send a photo of the receipt or the "
        "warranty card; we go ahead once we have checked it.",
        "- Refunds follow the rules of the department store where you bought the item.",
        "",
        "4. Repairs",
        "- Manufacturing defects within one year of purchase are repaired free of charge."
        " Other repairs start once you approve our quote.",
        "",
        "5. Items we cannot take back",
        "- Items that have been worn or washed, that are stained or damaged through use, "
        "and underwear, socks and other items marked as non-returnable for hygiene "
        "reasons.",
        "",
        "Anything these terms do not cover follows the Act on Specified Commercial "
        "Transactions and other Japanese law.",
    )
)


def create_return_terms() -> None:
    for locale, body in (("ja", RETURN_TERMS_JA), ("en", RETURN_TERMS_EN)):
        if db.session.get(ReturnTerms, locale) is None:
            db.session.add(ReturnTerms(locale=locale, body=body, updated_by="管理 花子"))


def create_policy_rules() -> list[PolicyRule]:
    """The rules the terms above describe, and one switched off to show what that looks like."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(PolicyRule)):
        return []
    rules = [
        PolicyRule(
            channel_code=ChannelCode.WEB,
            return_shipping_fee_yen=990,
            restocking_fee_percent=0,
            auto_approve=True,
            note="返送料990円（当社都合を除く）・自動承認",
        ),
        PolicyRule(category=Category.SHOES, window_days=14, note="靴は14日以内"),
        PolicyRule(
            channel_code=ChannelCode.DEPARTMENT_STORE,
            proof_required=True,
            note="レシート・保証書の確認が必要",
        ),
        PolicyRule(
            channel_code=ChannelCode.MARKETPLACE,
            restocking_fee_percent=10,
            active=False,
            note="試験運用（停止中）",
        ),
    ]
    db.session.add_all(rules)
    return rules


#: where demo customers send parcels from (made-up buildings on real streets' patterns)
_HOME_ADDRESSES = (
    ("150-0041", "東京都", "渋谷区", "神南1-14-5", "神南スクエア 1102号室"),
    ("160-0022", "東京都", "新宿区", "新宿5-17-8", ""),
    ("231-0023", "神奈川県", "横浜市中区", "山下町2-5", "山下町ハイツ 803"),
    ("530-0012", "大阪府", "大阪市北区", "芝田2-4-10", "梅田レジデンス 1105"),
    ("460-0008", "愛知県", "名古屋市中区", "栄3-6-1", ""),
    ("604-8005", "京都府", "京都市中京区", "恵比須町534-40", "河原町コート 302"),
    ("812-0012", "福岡県", "福岡市博多区", "博多駅中央街1-1", ""),
    ("060-0005", "北海道", "札幌市中央区", "北五条西2-5", "札幌北5条ビル 12F"),
)


def _complete_rmas(rmas: list[Rma]) -> None:
    """Where each case says the item was bought, the state of its proof of purchase, and
    the address a label or pickup starts from."""
    places = {ChannelCode.WEB: PurchasePlace.WEB, ChannelCode.STORE: PurchasePlace.STORE}
    for rma in rmas:
        if not rma.ship_postal_code:
            postal, prefecture, city, street, building = _HOME_ADDRESSES[
                sum(map(ord, rma.customer.name)) % len(_HOME_ADDRESSES)
            ]
            rma.ship_name = rma.customer.name
            rma.ship_postal_code, rma.ship_prefecture, rma.ship_city = postal, prefecture, city
            rma.ship_street, rma.ship_building = street, building
        code = rma.channel.code
        if rma.order is not None:
            rma.purchase_place = places.get(code)
            continue
        if code == ChannelCode.DEPARTMENT_STORE:
            rma.purchase_place = PurchasePlace.DEPARTMENT_STORE
        else:
            gift = rma.declared_retailer.startswith("頂き物")
            rma.purchase_place = PurchasePlace.GIFT if gift else PurchasePlace.OTHER_RETAILER
        # A receipt shown at a counter was checked there; the rest passed a person's check
        # before they moved on (the queue's own cases are added below).
        rma.proof_status = ProofStatus.ACCEPTED


@dataclass(frozen=True)
class _Waiting:
    """A department-store purchase whose receipt waits for a person to check."""

    counter: str
    rma_type: RmaType
    category: Category
    bought_days_ago: int
    filed_hours_ago: float
    reason: str
    words: str
    evidence: tuple[str, ...]
    method: ReturnMethod
    address: tuple[str, str, str, str, str]


_WAITING = (
    _Waiting(
        "DS-ISETAN-SHINJUKU",
        RmaType.EXCHANGE,
        Category.KNITWEAR,
        6,
        50,
        "size_too_small",
        "肩まわりがきつかったので、ワンサイズ上に交換したいです。",
        ("receipt",),
        ReturnMethod.PREPAID_LABEL,
        ("164-0001", "東京都", "中野区", "中野5-12-3", "ハイツ中野 201"),
    ),
    _Waiting(
        "DS-TAKASHIMAYA-NIHONBASHI",
        RmaType.REPAIR,
        Category.BAGS,
        230,
        30,
        "defective",
        "持ち手の付け根の縫い目がほつれてきました。",
        ("warranty", "photo"),
        ReturnMethod.PREPAID_LABEL,
        ("231-0023", "神奈川県", "横浜市中区", "山下町1-5", ""),
    ),
    _Waiting(
        "DS-HANKYU-UMEDA",
        RmaType.EXCHANGE,
        Category.TOPS,
        9,
        20,
        "defective",
        "届いた時点で袖口にほつれがありました。同じサイズで交換をお願いします。",
        ("receipt", "photo"),
        ReturnMethod.STORE_DROP_OFF,
        ("530-0012", "大阪府", "大阪市北区", "芝田2-4-10", "梅田レジデンス 1105"),
    ),
    _Waiting(
        "DS-DAIMARU-KYOTO",
        RmaType.REPAIR,
        Category.SHOES,
        120,
        6,
        "defective",
        "ソールの前の方が剥がれてきました。保証書は見つかりません。",
        (),
        ReturnMethod.CARRIAGE_FORWARD,
        ("604-8005", "京都府", "京都市中京区", "恵比須町530", ""),
    ),
)


def build_verification_queue(
    rng: random.Random,
    channels: dict[ChannelCode, Channel],
    locations: dict[str, Location],
    products: list[Product],
    customers: list[Customer],
) -> list[Rma]:
    """A handful of declared department-store purchases waiting in the verification queue."""
    now = utcnow()
    numbers = set(db.session.scalars(sa.select(Rma.number)))
    rmas = []
    for spec in _WAITING:
        counter = locations[spec.counter]
        candidates = [
            p
            for p in products
            if p.category == spec.category and (p.repairable or spec.rma_type != RmaType.REPAIR)
        ]
        variant = rng.choice(rng.choice(candidates).variants)
        customer = rng.choice([c for c in customers if c.email and c.locale == "ja"])
        filed = now - timedelta(hours=spec.filed_hours_ago)
        bought = (filed - timedelta(days=spec.bought_days_ago)).astimezone(JST).date()
        number = new_rma_number()
        while number in numbers:
            number = new_rma_number()
        numbers.add(number)
        repair = spec.rma_type == RmaType.REPAIR
        line = RmaLine(variant=variant, quantity=1, reason=spec.reason)
        if repair:
            line.symptom = spec.words
        else:
            line.comment = spec.words
            line.wanted_variant = _wanted(variant, spec.reason)
        if spec.method == ReturnMethod.STORE_DROP_OFF:
            site = counter
        else:
            site = locations["REPAIR-SAITAMA" if repair else "RC-CHIBA"]
        channel = channels[ChannelCode.DEPARTMENT_STORE]
        window = None if repair else bought + timedelta(days=channel.return_window_days)
        postal, prefecture, city, street, building = spec.address
        rma = Rma(
            number=number,
            access_token_hash=Rma.hash_token(secrets.token_urlsafe(32)),
            type=spec.rma_type,
            source=RmaSource.WEB,
            channel=channel,
            customer=customer,
            location=site,
            return_method=spec.method,
            declared_retailer=counter.retailer,
            declared_purchase_date=bought,
            declared_price_yen=variant.price_yen,
            purchase_place=PurchasePlace.DEPARTMENT_STORE,
            proof_status=ProofStatus.PENDING,
            ship_name=customer.name,
            ship_postal_code=postal,
            ship_prefecture=prefecture,
            ship_city=city,
            ship_street=street,
            ship_building=building,
            outcome={
                "return_shipping_fee_yen": 0,
                "restocking_fee_yen": 0,
                "refund_estimate_yen": None,
                "window_ends": [window.isoformat() if window else None],
                "warranty": [repair and spec.bought_days_ago <= 365],
                "proof_required": True,
            },
            refund_estimate_yen=None,
        )
        rma.lines.append(line)
        event = rma.start(RmaStatus.SUBMITTED, Actor.customer())
        event.created_at = rma.created_at = rma.updated_at = rma.status_changed_at = filed
        _attach_pictures(rma, spec, counter, bought, variant, filed)
        if not spec.evidence:
            # No receipt to show: the customer asks what else will do.
            message = rma._record(
                EventKind.MESSAGE, None, None, Actor.customer(), note=_NO_RECEIPT_QUESTION
            )
            message.created_at = filed + timedelta(minutes=12)
        rmas.append(rma)
    return rmas


def _wanted(variant: Variant, reason: str) -> Variant:
    """The next size up for a size complaint, the same item for a defect."""
    if reason != "size_too_small":
        return variant
    same_colour = [v for v in variant.product.variants if v.colour_en == variant.colour_en]
    at = same_colour.index(variant)
    return same_colour[min(at + 1, len(same_colour) - 1)]


def _attach_pictures(
    rma: Rma, spec: _Waiting, counter: Location, bought: date, variant: Variant, filed: datetime
) -> None:
    """Photos as the customer would have sent them, stored like real uploads. Skipped quietly
    when uploads cannot be stored here (the queue still works, just without pictures)."""
    try:
        from reverse.core.uploads import UploadRejected, save_image
    except ImportError:
        return
    from reverse.demo import pictures

    angle = rng_angle(rma.number)
    item = variant.product.name_ja
    detail = f"{variant.colour_ja} / {variant.size}"
    drawn = {
        "receipt": lambda: (
            AttachmentKind.RECEIPT,
            pictures.receipt(
                counter.retailer,
                " ".join(counter.address_lines[:2]),
                bought,
                item,
                detail,
                variant.price_yen,
                angle,
            ),
        ),
        "warranty": lambda: (
            AttachmentKind.RECEIPT,
            pictures.warranty_card(counter.retailer, bought, item, angle),
        ),
        "photo": lambda: (
            AttachmentKind.PHOTO,
            pictures.item_photo(_SWATCHES.get(variant.colour_en, (90, 90, 90)), _FAULT, -angle),
        ),
    }
    for key in spec.evidence:
        kind, data = drawn[key]()
        try:
            stored = save_image(io.BytesIO(data))
        except UploadRejected:
            return
        rma.attachments.append(
            Attachment(
                kind=kind,
                line_no=None if kind == AttachmentKind.RECEIPT else 0,
                stored_name=stored.name,
                content_type=stored.content_type,
                size_bytes=stored.size,
                width=stored.width,
                height=stored.height,
                created_at=filed,
            )
        )


_FAULT = "ここがほつれています"
_NO_RECEIPT_QUESTION = (
    "保証書が見つかりません。大丸京都店のクレジットカードの利用明細ならあります。"
    "そちらの写真でもよいでしょうか？"
)
_SWATCHES = {
    "Black": (40, 40, 42),
    "Brown": (120, 80, 50),
    "Camel": (176, 132, 84),
    "Navy": (38, 52, 88),
    "Ecru": (222, 214, 190),
    "Olive": (96, 98, 60),
    "White": (236, 236, 232),
}


def rng_angle(number: str) -> float:
    """A small, stable tilt per case: photos are never taken quite straight."""
    return (int(number[-3:]) % 9 - 4) * 0.9


# --- what the returns centre received and inspected ---------------------------------------------

#: the disposition rules of the demo's returns centre (reason codes: rmas.constants.REASONS);
#: rma type, reason, category, grade → disposition, note, active
_DISPOSITION_RULES: tuple[tuple[Any, ...], ...] = (
    (None, "defective", None, "C", "refurbish", "軽度の不良は補修してリユース販売", True),
    (None, "defective", None, "D", "return_to_vendor", "製造上の不具合はメーカー返品", True),
    (None, "defective", "shoes", None, "return_to_vendor", "靴の不良はメーカー保証で返品", True),
    (None, "damaged_in_transit", None, "D", "dispose", "配送中の破損（修理不能）", True),
    (None, "wrong_item", None, "A", "restock", "誤配送の返送品は未使用なら再入庫", True),
    (None, None, "shoes", "B", "resale", "試し履きの靴はリユース販売", True),
    (None, None, "home", "C", "recycle", "雑貨は補修せずリサイクル", True),
    (None, None, "outerwear", "C", "dispose", "試験運用（停止中）", False),
)

#: checklist answers that differ from a perfect unit's, by grade
_FLAWS_BY_GRADE = {"A": 0, "B": 1, "C": 2, "D": 3}


def build_inspections(
    rng: random.Random, rmas: list[Rma], locations: dict[str, Location], users: dict[str, User]
) -> None:
    """Disposition rules, and what arrived at the returns centre for the cases past receipt:
    a receipt with its units for each received case (a few with a unit already graded), and
    graded, decided units with their resale items for the inspected and resolved ones (the
    grade their timeline names). Stock levels are left as built above."""
    from reverse.intake.constants import (
        Disposition,
        Grade,
        UnitState,
        checklist_for,
    )
    from reverse.intake.dispositions import propose_disposition
    from reverse.intake.models import DispositionRule, Inspection, Receipt, ReceiptUnit
    from reverse.resale.constants import ResaleState
    from reverse.resale.models import ResaleItem
    from reverse.resale.pricing import price_for_grade

    rules = [
        DispositionRule(
            rma_type=RmaType(t) if t else None,
            reason=reason,
            category=Category(c) if c else None,
            grade=Grade(g) if g else None,
            disposition=Disposition(d),
            note=note,
            active=active,
        )
        for t, reason, c, g, d, note, active in _DISPOSITION_RULES
    ]
    db.session.add_all(rules)
    db.session.flush()
    centre = locations[MARKER_LOCATION]
    warehouse = users["warehouse@example.jp"]
    resale = (Disposition.RESALE, "B")
    for rma in rmas:
        if rma.type == RmaType.REPAIR or rma.status not in (
            S.RECEIVED,
            S.INSPECTED,
            S.RESOLVED,
            S.CLOSED,
        ):
            continue
        moved = {
            e.to_status: e.created_at for e in rma.events if e.kind == EventKind.STATUS_CHANGED
        }
        if S.RECEIVED not in moved or (rma.status != S.RECEIVED and S.INSPECTED not in moved):
            continue  # closed without its parcel ever arriving
        received_at = moved[S.RECEIVED]
        receipt = Receipt(
            rma_id=rma.id,
            location_id=centre.id,
            scanned_code=rma.number,
            received_by=warehouse.id,
            received_by_label=warehouse.name,
            received_at=received_at,
        )
        db.session.add(receipt)
        db.session.flush()
        units = []
        for line in rma.lines:
            for _ in range(line.quantity):
                units.append(
                    ReceiptUnit(
                        receipt_id=receipt.id,
                        rma_id=rma.id,
                        unit_no=len(units) + 1,
                        rma_line_id=line.id,
                        variant_id=line.variant_id,
                        state=UnitState.RECEIVED,
                        recorded_by_label=warehouse.name,
                        recorded_at=received_at,
                    )
                )
        db.session.add_all(units)
        db.session.flush()
        if rma.status == S.RECEIVED:
            # Some parcels were started: their first unit waits for its disposition.
            graded = units[:1] if rng.random() < 0.35 else []
            decided_at = None
            grade = Grade(rng.choices("ABC", (6, 3, 1))[0])
            inspected_at = received_at + timedelta(minutes=rng.randrange(20, 240))
        else:
            graded = units
            decided_at = moved[S.INSPECTED]
            event = next(e for e in rma.events if e.to_status == S.INSPECTED)
            grade = Grade((event.data or {}).get("grade") or "A")
            inspected_at = decided_at - timedelta(minutes=rng.randrange(5, 60))
        for unit in graded:
            line = next(li for li in rma.lines if li.id == unit.rma_line_id)
            category = line.variant.product.category if line.variant else None
            items = checklist_for(category)
            flaws = _FLAWS_BY_GRADE[grade.value]
            answers = {
                item.key: item.good if n >= flaws else not item.good for n, item in enumerate(items)
            }
            proposed, rule = propose_disposition(
                rma.type, line.reason, category, grade, [r for r in rules if r.active]
            )
            inspection = Inspection(
                unit_id=unit.id,
                rma_id=rma.id,
                grade=grade,
                checklist=answers,
                notes="",
                inspector_id=warehouse.id,
                inspector_label=warehouse.name,
                inspected_at=inspected_at,
                proposed_disposition=proposed,
                rule_id=rule.id if rule else None,
            )
            if decided_at is not None:
                inspection.disposition = proposed
                inspection.decided_by_label = warehouse.name
                inspection.decided_at = decided_at
                if (proposed, grade.value) == resale and rng.random() < 0.25:
                    inspection.disposition = Disposition.REFURBISH
                    inspection.override_reason = "ボタンが1つ欠けているため付け替えてから販売"
            db.session.add(inspection)
            resold = (Disposition.RESALE, Disposition.REFURBISH)
            if inspection.disposition in resold and line.variant is not None:
                price = price_for_grade(line.variant.price_yen, grade)
                refurbish = inspection.disposition == Disposition.REFURBISH
                db.session.add(
                    ResaleItem(
                        unit_id=unit.id,
                        variant_id=line.variant.id,
                        location_id=centre.id,
                        grade=grade,
                        source_disposition=inspection.disposition,
                        condition_notes=inspection.notes,
                        original_price_yen=line.variant.price_yen,
                        suggested_price_yen=price,
                        price_yen=price,
                        state=ResaleState.REFURBISHING if refurbish else ResaleState.DRAFT,
                    )
                )
    db.session.flush()


#: condition notes an inspector writes for a grade (shown on the pre-owned shop)
_RESALE_NOTES = {
    "A": "試着のみ。タグ付き。",
    "B": "袖口にわずかな着用感があります。",
    "C": "裾に小さな擦れがあります（写真参照）。",
    "D": "全体に着用感があります。",
}


def build_resale(
    rng: random.Random, end: datetime, locations: dict[str, Location], customers: list[Customer]
) -> None:
    """The pre-owned side of the graded units: most resale items listed on the shop with a
    bin and a photo, some sold at the stores or the web shop (the recovered-value report reads
    them), a few reserved by customers, refurbish ones waiting for their repair."""
    from reverse.core.actors import ActorKind
    from reverse.intake.models import Receipt, ReceiptUnit
    from reverse.resale.constants import (
        ResaleEventKind,
        ResaleState,
        ReservationKind,
        ReservationState,
        SaleChannel,
    )
    from reverse.resale.models import ResaleEvent, ResaleItem, ResaleReservation
    from reverse.resale.operations import reservation_token

    stores = [locations[code] for code in STORE_CODES]
    rows = db.session.execute(
        sa.select(ResaleItem, Receipt.received_at)
        .join(ReceiptUnit, ReceiptUnit.id == ResaleItem.unit_id)
        .join(Receipt, Receipt.id == ReceiptUnit.receipt_id)
        .order_by(ResaleItem.id)
    ).all()
    events: list[ResaleEvent] = []

    def event(item: ResaleItem, at: datetime, old: ResaleState | None, new: ResaleState) -> None:
        kind = ResaleEventKind.CREATED if old is None else ResaleEventKind.STATE
        events.append(
            ResaleEvent(
                item_id=item.id,
                kind=kind,
                from_state=old,
                to_state=new,
                params={},
                actor_kind=ActorKind.STAFF,
                actor_label="倉庫 次郎",
                created_at=at,
            )
        )

    buyers = iter(rng.sample(customers, k=min(len(customers), 12)))
    for n, (item, received_at) in enumerate(rows):
        created = received_at + timedelta(hours=rng.randrange(4, 30))
        item.created_at = item.updated_at = min(created, end)
        item.condition_notes = _RESALE_NOTES[item.grade.value]
        item.bin_code = f"{'ABC'[n % 3]}-{n // 3 % 12 + 1:02d}"
        event(item, item.created_at, None, item.state)
        start = item.created_at
        if item.state == ResaleState.REFURBISHING:
            repaired = item.created_at + timedelta(days=rng.randrange(3, 9))
            if repaired > end - timedelta(days=3) or rng.random() < 0.3:
                continue  # still at the repair bench
            item.state, item.refurbished_at = ResaleState.DRAFT, repaired
            start = repaired  # listed after its repair
            event(item, repaired, ResaleState.REFURBISHING, ResaleState.DRAFT)
        _photo(item, rng)
        roll = rng.random()
        if roll < 0.12:
            continue  # still a draft: not yet on the shelf
        listed_at = min(start + timedelta(days=rng.randrange(1, 4)), end)
        item.state, item.listed_at, item.updated_at = ResaleState.LISTED, listed_at, listed_at
        event(item, listed_at, ResaleState.DRAFT, ResaleState.LISTED)
        if roll < 0.40 and listed_at < end - timedelta(days=2):
            sold_at = listed_at + (end - listed_at) * rng.uniform(0.1, 0.9)
            store = rng.choice(stores)
            online = rng.random() < 0.3
            item.state, item.sold_at, item.updated_at = ResaleState.SOLD, sold_at, sold_at
            item.sold_price_yen = item.price_yen
            item.sold_channel = SaleChannel.WEB_SHOP if online else SaleChannel.STORE
            item.sold_location_id = item.location_id if online else store.id
            event(item, sold_at, ResaleState.LISTED, ResaleState.SOLD)
        elif roll < 0.46:
            buyer = next(buyers, None)
            if buyer is None:
                continue
            store = stores[0]
            at = max(end - timedelta(hours=rng.randrange(2, 40)), listed_at + timedelta(hours=1))
            pickup = rng.random() < 0.75
            reservation = ResaleReservation(
                item_id=item.id,
                kind=ReservationKind.PICKUP if pickup else ReservationKind.PURCHASE,
                state=ReservationState.ACTIVE,
                customer_id=buyer.id,
                pickup_location_id=store.id if pickup else None,
                token_hash=f"demo-{item.id}",
                price_yen=item.price_yen,
                expires_at=at + (timedelta(days=7) if pickup else timedelta(hours=24)),
                created_at=at,
            )
            if pickup and rng.random() < 0.5:  # arrived at the store already
                reservation.state, reservation.ready_at = ReservationState.READY, at
                item.location_id = store.id
            item.state, item.updated_at = ResaleState.RESERVED, at
            event(item, at, ResaleState.LISTED, ResaleState.RESERVED)
            db.session.add(reservation)
            db.session.flush()
            reservation.token_hash = ResaleReservation.hash_token(reservation_token(reservation))
    db.session.add_all(events)
    db.session.flush()


def _photo(item: Any, rng: random.Random) -> None:
    """The photo an inspector takes of a graded unit (skipped when uploads cannot be stored)."""
    from reverse.core.uploads import UploadRejected, save_image
    from reverse.demo import pictures
    from reverse.intake.models import ReceiptUnit

    variant = item.variant
    label = f"{variant.product.name_ja} {item.grade.value}"
    data = pictures.item_photo(
        _SWATCHES.get(variant.colour_en, (90, 90, 90)), label, rng.uniform(-4, 4)
    )
    try:
        stored = save_image(io.BytesIO(data))
    except (UploadRejected, OSError):
        return
    unit = db.session.get(ReceiptUnit, item.unit_id)
    db.session.add(
        Attachment(
            kind=AttachmentKind.INSPECTION,
            rma_id=unit.rma_id,
            unit_id=unit.id,
            stored_name=stored.name,
            content_type=stored.content_type,
            size_bytes=stored.size,
            width=stored.width,
            height=stored.height,
            added_by="倉庫 次郎",
            created_at=item.created_at,
        )
    )


# --- repairs -----------------------------------------------------------------------------------

#: (code, kind, repair kind, name ja, name en, price yen): the repair centre's price list
DEMO_PRICE_LIST = (
    ("L-STITCH", PriceItemKind.LABOUR, RepairKind.STITCHING, "縫製補修", "Re-stitching", 3_300),
    (
        "L-ZIP",
        PriceItemKind.LABOUR,
        RepairKind.ZIP,
        "ファスナー交換 作業",
        "Zip replacement work",
        4_400,
    ),
    ("P-ZIP", PriceItemKind.PART, RepairKind.ZIP, "ファスナー（部品）", "Zip (part)", 1_100),
    (
        "L-HANDLE",
        PriceItemKind.LABOUR,
        RepairKind.HANDLE_STRAP,
        "持ち手交換 作業",
        "Handle replacement work",
        6_600,
    ),
    (
        "P-HANDLE",
        PriceItemKind.PART,
        RepairKind.HANDLE_STRAP,
        "革持ち手（部品）",
        "Leather handle (part)",
        2_200,
    ),
    (
        "L-STRAP",
        PriceItemKind.LABOUR,
        RepairKind.HANDLE_STRAP,
        "ストラップ付け根補強",
        "Strap base reinforcement",
        3_850,
    ),
    ("L-SOLE", PriceItemKind.LABOUR, RepairKind.SOLE_HEEL, "ソール張替え", "Resoling", 8_800),
    (
        "L-HEEL",
        PriceItemKind.LABOUR,
        RepairKind.SOLE_HEEL,
        "ヒール交換",
        "Heel tip replacement",
        2_750,
    ),
    (
        "P-HEEL",
        PriceItemKind.PART,
        RepairKind.SOLE_HEEL,
        "ヒールリフト（部品）",
        "Heel lift (part)",
        880,
    ),
    (
        "L-HARDWARE",
        PriceItemKind.LABOUR,
        RepairKind.HARDWARE,
        "金具交換 作業",
        "Hardware replacement work",
        2_200,
    ),
    (
        "P-BUTTON",
        PriceItemKind.PART,
        RepairKind.HARDWARE,
        "ボタン・金具（部品）",
        "Button or buckle (part)",
        550,
    ),
    (
        "L-COLOUR",
        PriceItemKind.LABOUR,
        RepairKind.LEATHER_CARE,
        "革の補色・クリーニング",
        "Leather colour and cleaning",
        5_500,
    ),
    (
        "L-KNIT",
        PriceItemKind.LABOUR,
        RepairKind.KNIT_MENDING,
        "ニットかけはぎ",
        "Knit invisible mending",
        4_950,
    ),
    ("L-HOUR", PriceItemKind.LABOUR, None, "技術料（30分）", "Technician time (30 min)", 2_200),
)

_KINDS_BY_CATEGORY: dict[Category, tuple[RepairKind, ...]] = {
    Category.BAGS: (
        RepairKind.HANDLE_STRAP,
        RepairKind.ZIP,
        RepairKind.STITCHING,
        RepairKind.HARDWARE,
        RepairKind.LEATHER_CARE,
    ),
    Category.SHOES: (RepairKind.SOLE_HEEL, RepairKind.SOLE_HEEL, RepairKind.STITCHING),
    Category.KNITWEAR: (RepairKind.KNIT_MENDING,),
}

_DIAGNOSIS_BY_KIND: dict[RepairKind, tuple[str, ...]] = {
    RepairKind.STITCHING: ("縫い目が約5cmほつれています。", "ステッチ切れ。周囲の革は健全です。"),
    RepairKind.ZIP: ("ファスナーの務歯が欠けています。", "スライダーが摩耗し閉まりません。"),
    RepairKind.HANDLE_STRAP: (
        "持ち手の付け根が裂けています。",
        "ストラップの付け根の革が伸びています。",
    ),
    RepairKind.SOLE_HEEL: (
        "ソールがすり減り、中底が見えかけています。",
        "ヒールのトップリフトが摩耗しています。",
    ),
    RepairKind.HARDWARE: ("留め金具が外れています。", "ボタンが1つ欠損しています。"),
    RepairKind.LEATHER_CARE: ("角の色落ちと擦れがあります。", "表面の汚れと乾燥が見られます。"),
    RepairKind.KNIT_MENDING: ("袖に小さな穴が2か所あります。", "裾の編み目がほどけています。"),
    RepairKind.OTHER: ("状態を確認しました。",),
}

_WORK_BY_KIND: dict[RepairKind, str] = {
    RepairKind.STITCHING: "ほつれ部分を手縫いで補修。",
    RepairKind.ZIP: "ファスナーを同色の新品に交換。",
    RepairKind.HANDLE_STRAP: "持ち手を新しい革で作り直し、付け根を補強。",
    RepairKind.SOLE_HEEL: "ソールを剥がし、新しいソールを接着・縫製。",
    RepairKind.HARDWARE: "金具を交換し、動作を確認。",
    RepairKind.LEATHER_CARE: "汚れを落とし、補色と保湿を実施。",
    RepairKind.KNIT_MENDING: "同色の糸でかけはぎ。",
    RepairKind.OTHER: "作業を実施。",
}


def create_price_list() -> dict[str, PriceListItem]:
    items = {}
    for code, kind, repair_kind, name_ja, name_en, price in DEMO_PRICE_LIST:
        items[code] = PriceListItem(
            code=code,
            kind=kind,
            repair_kind=repair_kind,
            name_ja=name_ja,
            name_en=name_en,
            price_yen=price,
        )
    db.session.add_all(items.values())
    db.session.flush()
    return items


def _first_reached(rma: Rma) -> dict[RmaStatus, datetime]:
    reached: dict[RmaStatus, datetime] = {}
    for event in rma.events:
        if event.to_status is not None:
            reached.setdefault(event.to_status, event.created_at)
    return reached


def _quote_lines(
    rng: random.Random, items: list[PriceListItem], total: int
) -> list[RepairQuoteLine]:
    """Quote lines from the price list that add up to the quoted amount on the timeline."""
    item = rng.choice(items)
    if item.price_yen >= total:
        return [
            RepairQuoteLine(
                kind=item.kind, description=item.name_ja, quantity=1, unit_price_yen=total
            )
        ]
    return [
        RepairQuoteLine(
            price_item_id=item.id,
            kind=item.kind,
            description=item.name_ja,
            quantity=1,
            unit_price_yen=item.price_yen,
        ),
        RepairQuoteLine(
            kind=PriceItemKind.PART,
            description="部品・資材",
            quantity=1,
            unit_price_yen=total - item.price_yen,
        ),
    ]


def build_repairs(
    rng: random.Random, rmas: list[Rma], locations: dict[str, Location]
) -> list[RepairOrder]:
    """A repair order for every demo repair, consistent with its timeline: received and
    promised dates, the diagnosis, quotes (the amounts the timeline names), work, check and
    hand-back."""
    price_list = create_price_list()
    by_kind: dict[RepairKind | None, list[PriceListItem]] = {}
    for item in price_list.values():
        by_kind.setdefault(item.repair_kind, []).append(item)
    orders = []
    for rma in (r for r in rmas if r.type == RmaType.REPAIR):
        reached = _first_reached(rma)
        statuses = [e.to_status for e in rma.events if e.to_status is not None]
        counter = rma.source == RmaSource.STORE_COUNTER
        received = reached.get(S.ACCEPTED) or reached.get(S.AT_REPAIR_CENTRE)
        variant = rma.lines[0].variant if rma.lines else None
        category = variant.product.category if variant else Category.BAGS
        kind = rng.choice(
            _KINDS_BY_CATEGORY.get(category, (RepairKind.STITCHING, RepairKind.HARDWARE))
        )
        order = RepairOrder(
            rma_id=rma.id,
            intake_location_id=rma.location_id if counter else None,
            handback=Handback.STORE_PICKUP if counter else Handback.SHIP,
            pickup_location_id=rma.location_id if counter else None,
            received_at=received,
            at_centre_at=reached.get(S.AT_REPAIR_CENTRE),
            promised_on=(
                (received + timedelta(days=rng.choice((14, 21, 21, 28)))).astimezone(JST).date()
                if received
                else None
            ),
            condition_notes=rng.choice(("", "角に擦れあり", "内側に小さなシミ", "全体に使用感"))
            if counter
            else "",
            accessories=rng.choice(("", "保存袋", "ショルダーストラップ")) if counter else "",
        )
        if counter:
            low = rng.choice((3_300, 4_400, 5_500, 6_600))
            order.estimate_min_yen, order.estimate_max_yen = (
                low,
                low + rng.choice((2_200, 4_400, 6_600)),
            )
        if S.DIAGNOSED in reached:
            order.kind = kind
            order.diagnosis = rng.choice(_DIAGNOSIS_BY_KIND[kind])
            order.diagnosed_at = reached[S.DIAGNOSED]
            order.diagnosed_by = "修理 技術者"
            order.warranty = S.QUOTED not in reached and S.IN_REPAIR in reached
        quote_events = [e for e in rma.events if e.to_status == S.QUOTED]
        for number, event in enumerate(quote_events, start=1):
            total = int(event.data.get("quote_yen") or rng.choice((3_300, 5_500, 8_800)))
            quote = RepairQuote(
                number=number,
                total_yen=total,
                created_by="修理 技術者",
                created_at=event.created_at,
                lines=_quote_lines(rng, by_kind.get(kind) or by_kind[None], total),
                state=QuoteState.SUPERSEDED if number < len(quote_events) else QuoteState.SENT,
            )
            order.quotes.append(quote)
        if order.quotes:
            last = order.quotes[-1]
            if S.QUOTE_DECLINED in reached and statuses[-1] != S.QUOTED:
                last.state, last.decided_at = QuoteState.DECLINED, reached[S.QUOTE_DECLINED]
            elif S.QUOTE_APPROVED in reached and statuses[-1] != S.QUOTED:
                last.state, last.decided_at = QuoteState.APPROVED, reached[S.QUOTE_APPROVED]
                order.amount_due_yen = last.total_yen
            if last.decided_at:
                last.decided_by = "customer"
        if S.IN_REPAIR in reached:
            order.work.append(
                RepairWorkEntry(
                    note=_WORK_BY_KIND[kind],
                    minutes=rng.choice((30, 45, 60, 90, 120)),
                    created_by="修理 技術者",
                    created_at=reached[S.IN_REPAIR] + timedelta(hours=rng.uniform(2, 20)),
                )
            )
        gone = reached.get(S.RETURNING) or reached.get(S.READY)
        if gone and S.QUALITY_CHECK in reached:
            order.qc_passed_at, order.qc_by, order.qc_note = gone, "品質 担当", "仕上がり良好"
        order.ready_at = reached.get(S.READY)
        order.handed_back_at = reached.get(S.HANDED_BACK)
        if order.handed_back_at and order.amount_due_yen:
            order.paid_at, order.payment_note = order.handed_back_at, "店頭レジ"
        orders.append(order)
    db.session.add_all(orders)
    db.session.flush()
    return orders

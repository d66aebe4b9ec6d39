"""The portal's small shop (channels as the demo sets them, centres, stores, products with
stock, web orders) for the API's tests of cases."""

from tests.portal.conftest import shop, shop_order, shop_product

__all__ = ["shop", "shop_order", "shop_product"]

"""Dashboard pages of the inventory (included from config/urls.py at the site root)."""

from django.urls import path

from inventory.views import cold_chain, stock

urlpatterns = [
    path("stock/", stock.stock, name="stock"),
    path("stock/receive/", stock.receive, name="stock-receive-page"),
    path("stock/forecast/", stock.forecast, name="stock-forecast-page"),
    path("stock/lots/<int:pk>/", stock.lot_detail, name="stock-lot"),
    path("cold-chain/", cold_chain.cold_chain, name="cold-chain"),
    path(
        "cold-chain/excursions/<int:pk>/resolve/",
        cold_chain.excursion_resolve,
        name="cold-chain-resolve",
    ),
]

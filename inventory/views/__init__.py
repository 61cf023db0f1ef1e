"""Dashboard pages of the inventory: stock, lots, receiving, forecast, cold chain."""

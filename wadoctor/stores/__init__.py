"""Store adapters, one module per on-disk format, all behind `StoreAdapter` (`stores.base`);
`stores.adapters` lists them. Kept empty so that reading a config (`stores.sources`) does not
import every adapter."""

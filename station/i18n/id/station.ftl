# Stasiun operator jemput: bingkai halaman, kategori kunjungan, kesalahan umum.
# Setiap id di sini juga ada di ../en/station.ftl (diperiksa oleh uji satuan).

station-name = Stasiun Operator jemput
skip-to-content = Langsung ke isi
lang-other = English
lang-switch-label = Ganti bahasa ke bahasa Inggris
action-lock = Kunci
training-banner = Kit latihan: semua data di sini hanya untuk berlatih dan dibuang saat jemput ui ditutup.

error-title = Terjadi masalah
error-not-found = Halaman ini tidak ada.
error-back = Kembali ke beranda
home-failed = Data beranda tidak dapat dibaca dari kit. Rincian untuk teknisi:

category-lansia = Lansia
category-sakit = Sakit
category-disabilitas = Penyandang disabilitas
category-odgj = ODGJ (orang dengan gangguan jiwa)
category-rumah-sakit = Pasien rumah sakit
category-umum = Umum
category-dokumen = Layanan dokumen saja

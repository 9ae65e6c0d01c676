# Masalah perangkat dan pengambilan data, dengan kata-kata untuk operator lapangan: apa yang
# terjadi dan apa yang harus dilakukan. Setiap id di sini juga ada di ../en/problems.ftl.
# $device adalah salah satu problem-role-* (selalu di awal kalimat).

problem-role-camera = Kamera
problem-role-scanner = Pemindai sidik jari
problem-role-pad = Pad tanda tangan
problem-role-gps = Alat GPS
problem-role-none = Perangkat

problem-unplugged = { $device } tidak terhubung. Colokkan kabel USB-nya (periksa juga kabel dan hub USB), lalu coba lagi.
problem-busy = { $device } sedang dipakai program lain. Tutup program itu, lalu coba lagi.
problem-busy-holder = { $device } sedang dipakai program lain ({ $holder }). Tutup program itu, lalu coba lagi.
problem-no-permission = { $device } tidak bisa dibuka karena akun laptop ini belum diberi izin. Minta teknisi memberi izin (aturan udev jemput), lalu coba lagi.
problem-wrong-device = { $device } yang dipilih tidak cocok untuk langkah ini. Pilih perangkat yang benar (atau minta teknisi memeriksanya), lalu coba lagi.
problem-device-fault = { $device } mengalami gangguan. Cabut kabelnya, tunggu lima detik, colokkan lagi, lalu coba lagi.
problem-timeout-finger = Tidak ada jari di pemindai. Minta warga menempelkan jarinya rata di kaca pemindai, lalu coba lagi.
problem-timeout-signature = Belum ada tanda tangan di pad. Minta warga menandatangani dengan ujung pena menempel di pad, lalu coba lagi, atau catat bahwa warga tidak dapat menandatangani.
problem-timeout-photo = Kamera tidak menghasilkan foto. Pastikan kamera menyala, lensanya tidak tertutup dan cahayanya cukup, lalu coba lagi.
problem-timeout-fix = Alat GPS belum menemukan lokasi. Bawa ke tempat terbuka dan tunggu sebentar, atau lanjutkan tanpa lokasi.
problem-cancelled = Pengambilan dibatalkan. Hasil yang sudah diambil tetap tersimpan. Coba lagi bila sudah siap.
problem-bad-data = { $device } mengirim data yang rusak. Ambil sekali lagi; bila terus terjadi, cabut lalu colokkan lagi perangkatnya.
problem-poor-quality = Hasilnya belum cukup baik. Ulangi pengambilan; bila tetap tidak bisa, catat sebagai pengecualian beserta alasannya.
problem-storage = Data tidak dapat disimpan di laptop (disk penuh atau rusak). Hasil yang sudah tersimpan tetap aman. Minta teknisi mengosongkan ruang disk, lalu coba lagi.
problem-other = Terjadi masalah. Tunjukkan pesan untuk teknisi di bawah ini kepada teknisi, lalu coba lagi.

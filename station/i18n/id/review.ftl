# Melanjutkan, memeriksa, menyegel dan mengunggah kunjungan.

review-action = Periksa
review-action-seal = Segel kunjungan
upload-action = Unggah sekarang
resume-action = Lanjutkan
resume-action-label = Lanjutkan: { $who }
review-action-label = Periksa: { $who }

review-title = Periksa kunjungan
review-reference = NIK / daftar
review-category = Kategori
review-place = Tempat
review-consent = Persetujuan
review-consent-none = belum dicatat
review-consent-resident = diberikan oleh warga sendiri
review-consent-guardian = diberikan oleh { $name }
review-face = Foto wajah
review-face-alt = Foto wajah warga
review-fingers = Sidik jari
review-finger-alt = Sidik jari { $name }
review-signature = Tanda tangan
review-signature-alt = Tanda tangan warga
review-documents = Foto dokumen
review-document-alt = Foto dokumen { $n }
review-score = Skor { $score }
review-device-score = · skor perangkat { $score }
review-attempts = { $n ->
    [one] 1 percobaan
   *[other] { $n } percobaan
}
review-forced = diambil paksa di bawah ambang kualitas
review-check = Pemeriksaan
review-value = Nilai
review-threshold = Ambang
review-result = Hasil
review-pass = lulus
review-fail = gagal
review-exception = Pengecualian
review-proof = foto bukti
review-missing = Belum diambil dan tidak ada pengecualian.
review-go-step = Ambil sekarang
review-seal-title = Segel
review-ready = Semua lengkap: kunjungan siap disegel.
review-not-ready = Kunjungan belum dapat disegel:
review-warnings-legend = Data warga tidak cocok dengan NIK. Periksa dengan warga, lalu centang setiap peringatan sebelum menyegel:
review-sealing-interrupted = Penyegelan sebelumnya terputus (paket { $packet }). Tekan "Segel kunjungan" untuk menyelesaikannya; tidak ada yang disegel dua kali.
review-failed = Kunjungan tidak dapat dibaca dari kit. Rincian untuk teknisi:
seal-refused = Belum disegel: lengkapi dulu hal di bawah. Draf tetap tersimpan.
seal-confirm-first = Belum disegel: centang setiap peringatan NIK setelah memeriksanya dengan warga.
seal-failed = Penyegelan gagal; draf kunjungan tetap tersimpan dan tidak ada yang hilang. Rincian untuk teknisi:
resume-unknown = Kunjungan ini tidak ada di kit: mungkin sudah dibuang, atau alamatnya salah. Kunjungan yang berjalan ada di beranda.
resume-bad-id = Alamat kunjungan ini tidak valid.
resume-already-sealed = Kunjungan ini sudah disegel.

sealed-title = Kunjungan disegel
sealed-now = Kunjungan sudah disegel menjadi paket terenkripsi dan bertanda tangan.
sealed-earlier = Kunjungan ini sudah disegel sebelumnya.
sealed-packet = Paket
sealed-size = Ukuran
sealed-queue = Paket menunggu di antrean kit sampai diterima kantor. Unggah sekarang bila ada sambungan, atau nanti.
sealed-online-only = Kit dalam mode wajib daring: pengunggahan sudah dimulai.

upload-title = Unggah ke kantor
upload-running = Mengunggah…
upload-idle = Belum ada pengunggahan dari stasiun ini.
upload-nothing = Tidak ada paket yang menunggu diunggah.
upload-done = Pengunggahan selesai.
upload-packet = Paket
upload-result = Hasil
upload-acknowledged = Diterima kantor: tanda terima dari { $hub }.
upload-no-receipt = Terkirim, tetapi belum ada tanda terima; paket disimpan sampai kantor menandatanganinya.
upload-too-large = Terlalu besar untuk hub kantor; paket tetap di antrean. Hubungi teknisi.
upload-quarantined = Paket rusak di disk kit dan dikarantina. Hubungi teknisi.
upload-refused = Ditolak kantor. Hubungi teknisi.
upload-retry = Belum terkirim, akan dicoba lagi.
upload-not-attempted = Belum dicoba; tetap di antrean.
upload-no-hub = Kit ini belum punya alamat hub kantor (daftarkan dengan jemput enroll). Paket tetap aman di antrean.
upload-stopped = Tidak ada sambungan ke kantor sekarang; paket tetap aman di antrean dan diunggah nanti.
upload-failed = Pengunggahan tidak dapat dimulai; paket tetap di antrean. Hubungi teknisi.

review-reason-amputated = diamputasi
review-reason-bandaged = diperban atau luka
review-reason-unable-to-sign = tidak dapat tanda tangan
review-reason-blind = tunanetra
review-reason-refused = warga menolak
review-reason-device-failure = perangkat gagal
review-reason-poor-quality = kualitas di bawah ambang
review-reason-not-detected = tidak terdeteksi
review-reason-other = lainnya: { $text }
review-permanence-temporary = sementara
review-permanence-permanent = permanen

review-problem-no-consent = Persetujuan belum dicatat.
review-problem-consent-refused = Warga menolak memberi persetujuan: kunjungan tidak dapat disegel (buang dengan jemput visit discard).
review-problem-bad-nik = NIK tidak valid: { $why }
review-problem-unconfirmed = Peringatan NIK belum dikonfirmasi.
review-problem-missing-face = Foto wajah belum diambil dan tidak ada pengecualian.
review-problem-missing-finger = Sidik jari { $n } ({ $name }) belum diambil dan tidak ada pengecualian.
review-problem-missing-signature = Tanda tangan belum diambil dan tidak ada pengecualian.
review-problem-no-documents = Layanan dokumen tanpa foto dokumen dan tanpa pengecualian.
review-problem-document-exception = Pengecualian foto dokumen hanya untuk layanan dokumen saja.
review-problem-fix-consent = Catat persetujuan
review-problem-fix-step = Ke langkah { $step }

review-nik-warning-sex = NIK menunjukkan { $nik }, tetapi jenis kelamin yang diisi { $entered }
review-nik-warning-birth-date = Tanggal lahir dalam NIK ({ $nik }) berbeda dari yang diisi ({ $entered })
review-sex-male = laki-laki
review-sex-female = perempuan

review-step-location = Lokasi
review-step-face = Foto wajah
review-step-finger = Sidik jari { $n } ({ $name })
review-step-signature = Tanda tangan
review-step-document = Foto dokumen { $n }
resume-consent = Persetujuan
resume-next = Berikutnya: { $step } ({ $done }/{ $needed })
resume-all-captured = Semua diambil ({ $done }/{ $needed })
resume-column = Tindakan

review-signature-kind-signature = tanda tangan biasa
review-signature-kind-simple-mark = tanda sederhana (tidak dapat tanda tangan)
review-signature-kind-written-name = nama ditulis (tidak dapat tanda tangan)
review-document-akta = Foto akta kelahiran
review-document-kia = Foto KIA
review-document-kk = Foto KK
review-document-all = Semua foto dokumen

review-finger-1 = ibu jari kanan
review-finger-2 = telunjuk kanan
review-finger-3 = jari tengah kanan
review-finger-4 = jari manis kanan
review-finger-5 = kelingking kanan
review-finger-6 = ibu jari kiri
review-finger-7 = telunjuk kiri
review-finger-8 = jari tengah kiri
review-finger-9 = jari manis kiri
review-finger-10 = kelingking kiri
worklist-new-visit-label = Kunjungan baru: { $name }
review-face-check-width = Lebar foto
review-face-check-height = Tinggi foto
review-face-check-aspect-ratio = Perbandingan sisi
review-face-check-highlights-clipped = Bagian terlalu terang
review-face-check-shadows-clipped = Bagian terlalu gelap
review-face-check-sharpness = Ketajaman
review-face-check-background-uniform = Latar rata
review-face-check-background-colour = Warna latar

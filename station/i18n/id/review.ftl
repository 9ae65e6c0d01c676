# Melanjutkan, memeriksa, menyegel dan mengunggah kunjungan.

action-review = Periksa
action-seal = Segel kunjungan
action-upload = Unggah sekarang
action-continue = Lanjutkan
action-continue-label = Lanjutkan: { $who }
action-review-label = Periksa: { $who }

review-title = Periksa kunjungan
review-reference = NIK / daftar
review-category = Kategori
review-place = Tempat
review-consent = Persetujuan
review-consent-none = belum dicatat
consent-by-resident-short = diberikan oleh warga sendiri
consent-by-guardian-short = diberikan oleh { $name }
review-face = Foto wajah
review-face-alt = Foto wajah warga
review-fingers = Sidik jari
review-finger-alt = Sidik jari { $name }
review-signature = Tanda tangan
review-signature-alt = Tanda tangan warga
review-documents = Foto dokumen
review-document-alt = Foto dokumen { $n }
review-score = Skor { $score }
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
visit-unknown = Kunjungan ini tidak ada di kit: mungkin sudah dibuang, atau alamatnya salah. Kunjungan yang berjalan ada di beranda.
visit-bad-id = Alamat kunjungan ini tidak valid.
visit-already-sealed = Kunjungan ini sudah disegel.

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
upload-quarantined = Paket rusak di disk kit dan dikarantina: { $why }
upload-refused = Ditolak kantor: { $why }
upload-retry = Belum terkirim, akan dicoba lagi: { $why }
upload-not-attempted = Belum dicoba; tetap di antrean.
upload-no-hub = Kit ini belum punya alamat hub kantor (daftarkan dengan jemput enroll). Paket tetap aman di antrean.
upload-stopped = Tidak ada sambungan ke kantor sekarang; paket tetap aman di antrean dan diunggah nanti. ({ $why })
upload-failed = Pengunggahan tidak dapat dimulai; paket tetap di antrean. Rincian untuk teknisi: { $why }

reason-amputated = diamputasi
reason-bandaged = diperban atau luka
reason-unable-to-sign = tidak dapat tanda tangan
reason-blind = tunanetra
reason-refused = warga menolak
reason-device-failure = perangkat gagal
reason-poor-quality = kualitas di bawah ambang
reason-not-detected = tidak terdeteksi
reason-other = lainnya: { $text }
permanence-temporary = sementara
permanence-permanent = permanen

problem-no-consent = Persetujuan belum dicatat.
problem-consent-refused = Warga menolak memberi persetujuan: kunjungan tidak dapat disegel (buang dengan jemput visit discard).
problem-bad-nik = NIK tidak valid: { $why }
problem-unconfirmed = Peringatan NIK belum dikonfirmasi.
problem-missing-face = Foto wajah belum diambil dan tidak ada pengecualian.
problem-missing-finger = Sidik jari { $n } ({ $name }) belum diambil dan tidak ada pengecualian.
problem-missing-signature = Tanda tangan belum diambil dan tidak ada pengecualian.
problem-no-documents = Layanan dokumen tanpa foto dokumen dan tanpa pengecualian.
problem-document-exception = Pengecualian foto dokumen hanya untuk layanan dokumen saja.
problem-fix-consent = Catat persetujuan
problem-fix-step = Ke langkah { $step }

nik-warning-sex = NIK menunjukkan { $nik }, tetapi jenis kelamin yang diisi { $entered }
nik-warning-birth-date = Tanggal lahir dalam NIK ({ $nik }) berbeda dari yang diisi ({ $entered })
sex-male = laki-laki
sex-female = perempuan

step-location = Lokasi
step-face = Foto wajah
step-finger = Sidik jari { $n } ({ $name })
step-signature = Tanda tangan
step-document = Foto dokumen { $n }
drafts-next = Berikutnya: { $step } ({ $done }/{ $needed })
drafts-all-captured = Semua diambil ({ $done }/{ $needed })
drafts-action = Tindakan

signature-kind-signature = tanda tangan biasa
signature-kind-simple-mark = tanda sederhana (tidak dapat tanda tangan)
signature-kind-written-name = nama ditulis (tidak dapat tanda tangan)
document-akta = Foto akta kelahiran
document-kia = Foto KIA
document-kk = Foto KK
document-all = Semua foto dokumen

finger-1 = ibu jari kanan
finger-2 = telunjuk kanan
finger-3 = jari tengah kanan
finger-4 = jari manis kanan
finger-5 = kelingking kanan
finger-6 = ibu jari kiri
finger-7 = telunjuk kiri
finger-8 = jari tengah kiri
finger-9 = jari manis kiri
finger-10 = kelingking kiri
worklist-new-visit-label = Kunjungan baru: { $name }

# Halaman buka kunci.

unlock-title = Buka kunci kit
unlock-intro = Masukkan kata sandi kit. Data kunjungan di kit ini terenkripsi dan hanya bisa dibaca setelah kunci dibuka.
unlock-passphrase = Kata sandi kit
action-unlock = Buka kunci
unlock-training-passphrase = Kata sandi kit latihan ini: { $passphrase }
unlock-lock-rule = Kit terkunci sendiri setelah { $minutes } menit tanpa kegiatan. Tekan "Kunci" bila meninggalkan laptop.
unlock-auto-locked = Kit terkunci otomatis setelah { $minutes } menit tanpa kegiatan.
unlock-empty = Kata sandi masih kosong. Ketik kata sandi kit, lalu tekan "Buka kunci".
unlock-wrong = Kata sandi salah. Periksa huruf besar dan kecil, lalu coba lagi.
unlock-failed = Kunci tidak dapat dibuka karena masalah pada kit. Rincian untuk teknisi:

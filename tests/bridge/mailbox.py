#!/usr/bin/python3
"""Read the mail sink's Maildir (aiosmtpd's Mailbox handler): one JSON line
per message, oldest first, with what the tests check -- the envelope
recipient, the headers, the text part, and each PNG attachment's QR code as
zbarimg decodes it (null when it does not decode).

    mailbox.py DIR
"""
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile


def qr_of(png):
    with tempfile.NamedTemporaryFile(suffix='.png') as f:
        f.write(png)
        f.flush()
        run = subprocess.run(['zbarimg', '-Sdisable', '-Sqrcode.enable', '--raw', '-q', f.name], capture_output=True, text=True)
    return run.stdout.rstrip('\n') if run.returncode == 0 else None


def main(directory):
    new = os.path.join(directory, 'new')
    names = sorted(os.listdir(new), key=lambda n: os.stat(os.path.join(new, n)).st_mtime_ns) \
        if os.path.isdir(new) else []
    for name in names:
        with open(os.path.join(new, name), 'rb') as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        text = msg.get_body(preferencelist=('plain',))
        attachments = []
        for part in msg.iter_attachments():
            data = part.get_payload(decode=True)
            attachments.append({'filename': part.get_filename(), 'content_type': part.get_content_type(),
                                'qr': qr_of(data) if part.get_content_type() == 'image/png' else None})
        print(json.dumps({'file': name, 'rcpt': msg['X-RcptTo'], 'to': str(msg['To']), 'from': str(msg['From']),
                          'subject': str(msg['Subject']), 'outbox_id': msg['X-Evently-Outbox-Id'],
                          'message_id': msg['Message-ID'], 'content_type': msg.get_content_type(),
                          'text': text.get_content() if text else None, 'attachments': attachments}))


if __name__ == '__main__':
    main(sys.argv[1])

"""Conflict and reconnect analysis from gateway logs (Baileys pino JSON, whatsmeow/neonize,
whatsapp-web.js and Chromium text), streamed in constant memory."""

package main

// Placeholders replaced as each command lands.

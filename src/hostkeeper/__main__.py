from hostkeeper.cli import main

raise SystemExit(main())
